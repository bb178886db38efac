// p2p-media-loader core configuration for Canopy's live streams.
//
// How p2p-media-loader-core 2.3.1 schedules a segment (hybrid-loader.ts):
// - a segment that starts within highDemandTimeWindow seconds of the
//   playhead is urgent: it goes to HTTP at once unless already loaded, and a
//   P2P download of it is switched to HTTP when an HTTP slot is free;
// - a segment further ahead is fetched only from peers that announced it,
//   within p2pDownloadTimeWindow;
// - within httpDownloadTimeWindow, segments no peer has are fetched over
//   HTTP at random by about one viewer in (peers + 1), so a swarm without
//   relay nodes still seeds itself.
//
// Relay nodes announce each segment the moment it is sealed, so a segment
// is P2P-downloadable as soon as the page knows it exists. The page learns
// that from the media playlist, the live edge being latency L behind the
// playhead. A new segment of duration D starts L - D ahead of the playhead,
// so peers have (L - D - highDemandTimeWindow) seconds, less the playlist
// reload delay, before HTTP takes over; HTTP then has highDemandTimeWindow
// seconds before the playhead needs the bytes.

/** @typedef {"normal"|"fast"} LatencyMode */

/**
 * Latency modes. syncSegments is hls.js liveSyncDurationCount (target
 * latency in segment durations); demandSegments is highDemandTimeWindow in
 * segment durations.
 *  - normal: 3 segments behind the edge (6 s at 2 s segments). A new
 *    segment gets one segment duration (2 s) from peers, less the time the
 *    page takes to see it in the playlist, then one more for the HTTP
 *    fallback.
 *  - fast: 2 segments (4 s). A new segment is urgent on arrival, so the
 *    live edge comes over HTTP and peers serve only what they already hold:
 *    fast mode trades origin load for latency. 1.5 segments was tried and
 *    stalls: hls.js reloads a live playlist about once per target duration,
 *    so a segment can be noticed up to one segment duration after it exists,
 *    and 1.5 segments leaves no time to fetch it.
 * LOW-LATENCY HOOK: sub-second viewing will be a third mode that leaves HLS
 * for WebRTC media (WHEP, POST /live/{stream}/whep, package sfu). It does
 * not fit this table; P2PPlayer.setMode (player.js) is where it will branch off.
 */
export const MODES = Object.freeze({
  normal: Object.freeze({ syncSegments: 3, demandSegments: 1 }),
  fast: Object.freeze({ syncSegments: 2, demandSegments: 1 }),
});

/**
 * The time windows (seconds) for a mode and segment duration.
 * @param {LatencyMode} mode
 * @param {number} segmentSeconds
 */
export function liveWindows(mode, segmentSeconds) {
  const m = MODES[mode] ?? MODES.normal;
  const latency = m.syncSegments * segmentSeconds;
  return {
    highDemandTimeWindow: m.demandSegments * segmentSeconds,
    // Random HTTP seeding may reach for anything between playhead and edge.
    httpDownloadTimeWindow: latency,
    // Peers may be asked for anything up to the edge and a little beyond
    // (the playlist bounds it anyway).
    p2pDownloadTimeWindow: latency + 2 * segmentSeconds,
  };
}

/**
 * ICE servers for WebRTC. On a LAN or loopback address (a community event
 * without Internet, a test) peers reach each other on host candidates;
 * public STUN servers would only delay offers while gathering times out.
 * Elsewhere p2p-media-loader's default public STUN servers apply.
 * @param {string} hostname
 * @returns {RTCConfiguration|undefined}
 */
export function rtcConfigFor(hostname) {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const local =
    h === "localhost" ||
    h.endsWith(".local") ||
    h.endsWith(".localhost") ||
    /^(127|10)\.\d+\.\d+\.\d+$/.test(h) ||
    /^192\.168\.\d+\.\d+$/.test(h) ||
    /^172\.(1[6-9]|2\d|3[01])\.\d+\.\d+$/.test(h) ||
    /^169\.254\.\d+\.\d+$/.test(h) ||
    h === "::1" ||
    /^f[cd][0-9a-f]{2}:/.test(h) ||
    /^fe80:/.test(h);
  return local ? { iceServers: [] } : undefined;
}

/**
 * Default tracker: the page's own host.
 * @param {Location} loc
 */
export function defaultTracker(loc) {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/tracker`;
}

/**
 * @param {object} p
 * @param {string} p.swarmId "canopy:<stream>:<broadcast>"
 * @param {string[]} p.trackers
 * @param {LatencyMode} p.mode
 * @param {number} p.segmentSeconds until the first playlist says otherwise
 * @param {boolean} p.uploadEnabled
 * @param {RTCConfiguration} [p.rtcConfig]
 * @param {(url: string, byteRange: unknown, data: ArrayBuffer) => Promise<boolean>} p.validateP2PSegment
 * @param {(url: string, byteRange: unknown, data: ArrayBuffer) => Promise<boolean>} p.validateHTTPSegment
 * @param {(url: string, segmentRange: unknown, signal: AbortSignal, range: {start: number, end?: number}|undefined) => Promise<Request|undefined>} p.httpRequestSetup
 * @param {() => import("p2p-media-loader-core").SegmentStorage} p.storageFactory
 * @returns {Partial<import("p2p-media-loader-core").CoreConfig>}
 */
export function coreConfig(p) {
  return {
    swarmId: p.swarmId,
    announceTrackers: p.trackers,
    ...(p.rtcConfig ? { rtcConfig: p.rtcConfig } : {}),
    ...liveWindows(p.mode, p.segmentSeconds),
    // Start at once: the tracker connection only opens with the first
    // segment request, so waiting for peers would cost time to first frame
    // for a segment or two of origin traffic.
    httpDownloadInitialTimeoutMs: 0,
    // A peer that stops sending is given up after 1 s (default 2 s): with
    // about two seconds for peers per segment, waiting longer means HTTP.
    p2pNotReceivingBytesTimeoutMs: 1000,
    simultaneousHttpDownloads: 2,
    simultaneousP2PDownloads: 3,
    isP2PUploadDisabled: !p.uploadEnabled,
    validateP2PSegment: p.validateP2PSegment,
    validateHTTPSegment: p.validateHTTPSegment,
    httpRequestSetup: p.httpRequestSetup,
    customSegmentStorageFactory: p.storageFactory,
  };
}
