// Digest of an RTCPeerConnection.getStats() report for the low-latency
// mode's stats panel and window.canopy.stats().webrtc. Pure: it reads a
// report (anything with forEach over stats objects) and the previous
// digest, nothing else.
//
// The delay shown is the receiver's playout delay, not glass-to-glass
// latency: the average time a video frame spent in the jitter buffer
// (inbound-rtp jitterBufferDelay / jitterBufferEmittedCount, over the last
// poll interval when there is a previous digest) plus half the round-trip
// time of the selected candidate pair (a stand-in for the one-way network
// delay). Encoding, the origin's packetising and the capture side are not
// in it.

/**
 * @typedef {object} RtcDigest
 * @property {number} framesDecoded video
 * @property {number} freezeCount video (Chromium); 0 where the browser does not count freezes
 * @property {number} packetsLost video and audio
 * @property {number} nackCount NACKs sent, video and audio
 * @property {number} jitterBufferMs video, average per frame over the last interval
 * @property {number} rttMs current round-trip time of the selected candidate pair
 * @property {number} playoutDelayMs jitterBufferMs + rttMs / 2
 * @property {number} width decoded video size
 * @property {number} height
 * @property {number} framesPerSecond
 * @property {number} bytesReceived video and audio payload and headers
 * @property {{jitterBufferDelay: number, jitterBufferEmittedCount: number}} totals cumulative counters, for the next digest
 */

/** @param {unknown} v */
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** @param {any} s inbound-rtp stats */
const kindOf = (s) => s.kind ?? s.mediaType;

/** An all-zero digest. @returns {RtcDigest} */
export function emptyDigest() {
  return {
    framesDecoded: 0,
    freezeCount: 0,
    packetsLost: 0,
    nackCount: 0,
    jitterBufferMs: 0,
    rttMs: 0,
    playoutDelayMs: 0,
    width: 0,
    height: 0,
    framesPerSecond: 0,
    bytesReceived: 0,
    totals: { jitterBufferDelay: 0, jitterBufferEmittedCount: 0 },
  };
}

/**
 * The candidate pair in use: the transport's selected pair (Chromium), or
 * the pair flagged selected (Firefox), or a nominated succeeded pair.
 * @param {any[]} all @param {Map<string, any>} byId
 */
function selectedPair(all, byId) {
  for (const s of all) {
    if (s.type === "transport" && s.selectedCandidatePairId && byId.has(s.selectedCandidatePairId)) return byId.get(s.selectedCandidatePairId);
  }
  const pairs = all.filter((s) => s.type === "candidate-pair");
  return pairs.find((s) => s.selected) ?? pairs.find((s) => s.nominated && s.state === "succeeded") ?? null;
}

/**
 * @param {{forEach: (fn: (s: any) => void) => void}} report RTCStatsReport or a Map of stats
 * @param {RtcDigest|null} [prev] the previous digest of the same PeerConnection
 * @returns {RtcDigest}
 */
export function digestStats(report, prev = null) {
  /** @type {any[]} */
  const all = [];
  report.forEach((s) => all.push(s));
  const byId = new Map(all.map((s) => [s.id, s]));
  const inbound = all.filter((s) => s.type === "inbound-rtp");
  // With one video receiver there is one video inbound-rtp; should there
  // be more (simulcast layers), the one that decoded the most frames.
  const video = inbound
    .filter((s) => kindOf(s) === "video")
    .reduce((best, s) => (!best || num(s.framesDecoded) > num(best.framesDecoded) ? s : best), null);
  const d = emptyDigest();
  for (const s of inbound) {
    d.packetsLost += Math.max(0, num(s.packetsLost));
    d.nackCount += num(s.nackCount);
    d.bytesReceived += num(s.bytesReceived) + num(s.headerBytesReceived);
  }
  if (video) {
    d.framesDecoded = num(video.framesDecoded);
    d.freezeCount = num(video.freezeCount);
    d.width = num(video.frameWidth);
    d.height = num(video.frameHeight);
    d.framesPerSecond = num(video.framesPerSecond);
    const delay = num(video.jitterBufferDelay);
    const emitted = num(video.jitterBufferEmittedCount);
    d.totals = { jitterBufferDelay: delay, jitterBufferEmittedCount: emitted };
    const dEmitted = prev ? emitted - prev.totals.jitterBufferEmittedCount : 0;
    const dDelay = prev ? delay - prev.totals.jitterBufferDelay : 0;
    if (dEmitted > 0 && dDelay >= 0) d.jitterBufferMs = (1000 * dDelay) / dEmitted;
    else if (emitted > 0) d.jitterBufferMs = (1000 * delay) / emitted;
  }
  d.rttMs = 1000 * num(selectedPair(all, byId)?.currentRoundTripTime);
  d.jitterBufferMs = Math.round(d.jitterBufferMs);
  d.rttMs = Math.round(d.rttMs);
  d.playoutDelayMs = Math.round(d.jitterBufferMs + d.rttMs / 2);
  return d;
}
