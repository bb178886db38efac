// hls.js + p2p-media-loader with Canopy's integrity checks and live tuning,
// and the low-latency mode: WebRTC media over WHEP (whep.js) in the same
// video element, with hls.js and the P2P engine destroyed meanwhile.
// The light build of hls.js: no subtitles, alternate audio, DRM, CMCD,
// content steering or interstitials, none of which Canopy's streams (muxed
// audio and video in fMP4) use; about 30% less to download.
import Hls from "hls.js/light";
import { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";
import { verifyingLoader } from "./loader.js";
import { connectionHints, pickStartLevel } from "./network.js";
import { MODES, coreConfig, liveWindows, rtcConfigFor } from "./p2pconfig.js";
import { PeerBook } from "./peers.js";
import { digestStats } from "./rtcstats.js";
import { LiveSegmentStorage } from "./storage.js";
import { Stats, isPlaying } from "./stats.js";
import { watchdogLoader } from "./watchdog.js";
import { WhepLink, whepEndpoint } from "./whep.js";

/** The latency mode that plays WebRTC (WHEP) instead of HLS. */
export const LOW_LATENCY = "lowlatency";

/** @typedef {"normal"|"fast"|"lowlatency"} PlayerMode */

/** Whether this browser can play the low-latency mode at all. */
export const canPlayLowLatency = () => typeof RTCPeerConnection === "function" && typeof MediaStream === "function";

/** How often the low-latency mode reads getStats (the stats panel redraws every second). */
const RTC_STATS_MS = 1000;

/** Segment duration assumed until the first media playlist says (origin default). */
const DEFAULT_SEGMENT_SECONDS = 2;

/** @param {{url: string|string[], height: number, bitrate: number}} level */
export function renditionOf(level) {
  const url = Array.isArray(level.url) ? level.url[0] : level.url;
  try {
    const parts = new URL(url, location.href).pathname.split("/");
    if (parts.length === 5 && parts[1] === "live") return decodeURIComponent(parts[3]);
  } catch {
    // fall through
  }
  return level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kb/s`;
}

export class P2PPlayer {
  /**
   * @param {object} p
   * @param {HTMLVideoElement} p.video
   * @param {string} p.stream
   * @param {string} p.broadcast
   * @param {string} p.src master playlist URL
   * @param {string[]} p.trackers
   * @param {import("./verifier.js").SegmentVerifier} p.verifier
   * @param {import("./records.js").RecordBook} p.book
   * @param {PlayerMode} p.mode
   * @param {boolean} p.uploadEnabled
   * @param {boolean} p.corruptUploads TEST HOOK (?corrupt=1)
   * @param {{onLevels?: (names: string[]) => void, onLevelSwitched?: (name: string) => void, onStatus?: (text: string) => void, onFallback?: (message: string) => void}} [p.events]
   *   onFallback: low latency gave up and the player went back to normal mode
   */
  constructor(p) {
    this.p = p;
    this.video = p.video;
    /** @type {PlayerMode} */
    this.mode = p.mode === LOW_LATENCY && !canPlayLowLatency() ? "normal" : p.mode;
    /** @type {"normal"|"fast"} the HLS mode: the one played, or the one hls.js is built with when it comes back */
    this.hlsMode = p.mode === "fast" ? "fast" : "normal";
    this.uploadEnabled = p.uploadEnabled;
    this.segmentSeconds = DEFAULT_SEGMENT_SECONDS;
    this.events = p.events ?? {};
    /** hls.js error details -> count, fatal or not (for tests and debugging) */
    this.errors = {};
    this.stats = new Stats();
    this.peers = new PeerBook();
    this.storage = new LiveSegmentStorage({ corruptUploads: p.corruptUploads });
    this.started = false;
    /** @type {any} hls.js with p2p-media-loader; null in low-latency mode */
    this.hls = null;
    /** @type {any} */
    this.engine = null;
    /** @type {WhepLink|null} the low-latency session keeper */
    this.ll = null;
    /** @type {{pc: RTCPeerConnection, digest: import("./rtcstats.js").RtcDigest}|null} last getStats digest */
    this.rtc = null;
    this.rtcTimer = 0;
    this.stats.watch(this.video);
    if (this.mode !== LOW_LATENCY) this.buildHls();
  }

  /** Creates hls.js and its P2P engine and wires them up (not attached yet). */
  buildHls() {
    this.hls = this.createHls();
    this.engine = this.hls.p2pEngine;
    // hls.js reads config.fLoader at every fragment load.
    this.hls.config.fLoader = watchdogLoader(this.hls.config.fLoader, this.hls.config.loader, this.video, (url) =>
      console.warn(`canopy: P2P engine did not deliver ${url} in time; fetching it directly`),
    );
    this.stats.attach(this.engine);
    this.peers.attach(this.engine);
    this.listen();
  }

  /**
   * Destroys hls.js: it stops loading and detaches from the video, and its
   * P2P engine closes its tracker and peer connections (hls.js DESTROYING).
   */
  destroyHls() {
    if (!this.hls) return;
    this.hls.destroy();
    this.hls = null;
    this.engine = null;
    this.peers.connected.clear();
    this.peers.downloads.clear();
  }

  createHls() {
    const { p, stats } = this;
    const hints = connectionHints();
    const HlsWithP2P = HlsJsP2PEngine.injectMixin(Hls);
    return new HlsWithP2P({
      // Loading starts once the start level is chosen (MANIFEST_PARSED).
      autoStartLoad: false,
      capLevelToPlayerSize: true,
      // Setting these keeps p2p-media-loader from choosing its own (it
      // would play as far behind live as the playlist allows, for P2P's
      // sake). See p2pconfig.js for what the latency buys.
      liveSyncDurationCount: MODES[this.hlsMode].syncSegments,
      // Further than 5 segments behind (10 s), hls.js jumps to the target
      // instead of catching up (catch-up works within one segment of it).
      liveMaxLatencyDurationCount: 5,
      // Start only when the playlist is long enough to play at the target
      // latency; right after a stream starts, hls.js would otherwise begin
      // at the edge and stall until the target is met.
      initialLiveManifestSize: Math.ceil(MODES[this.hlsMode].syncSegments) + 1,
      // Catch up gently (up to 1.1x) when behind the target, e.g. after
      // a slow start or a stall, rather than jumping. hls.js adjusts the
      // rate only in lowLatencyMode; its other effects concern LL-HLS parts
      // and blocking playlist reloads, which Canopy's playlists do not use.
      maxLiveSyncPlaybackRate: 1.1,
      lowLatencyMode: true,
      // The buffer may reach the live edge: hls.js asks for each new segment
      // as soon as it is listed, and p2p-media-loader decides when it has to
      // come over HTTP. Setting these also keeps p2p-media-loader's own
      // buffer override out.
      maxBufferLength: 10,
      maxMaxBufferLength: 20,
      // Enough behind the playhead to step back when switching latency mode,
      // bounded for phones.
      backBufferLength: 30,
      // Whole segments only: bytes reach the player after the integrity check.
      progressive: false,
      // The ES module build of hls.js has no inline worker; fMP4 needs no
      // transmuxing, so the main thread does.
      enableWorker: false,
      ...(hints.downlinkMbps ? { abrEwmaDefaultEstimate: hints.downlinkMbps * 1e6 * 0.8 } : {}),
      loader: verifyingLoader(Hls.DefaultConfig.loader, p.verifier, (n) => stats.count(n, "http")),
      p2p: {
        core: coreConfig({
          swarmId: `canopy:${p.stream}:${p.broadcast}`,
          trackers: p.trackers,
          mode: this.hlsMode,
          segmentSeconds: this.segmentSeconds,
          uploadEnabled: this.uploadEnabled,
          rtcConfig: rtcConfigFor(location.hostname),
          validateP2PSegment: (url, _range, data) => this.validateP2P(url, data),
          validateHTTPSegment: (url, _range, data) => this.validateHTTP(url, data),
          httpRequestSetup: (url, _segRange, signal, range) => this.httpRequest(url, signal, range),
          storageFactory: () => this.storage,
        }),
      },
    });
  }

  /** p2p-media-loader's validateP2PSegment hook: false discards the bytes and closes the peer. */
  async validateP2P(url, data) {
    const peerId = this.peers.senderOf(url);
    if (peerId && this.peers.isBanned(peerId)) return false;
    const verdict = await this.p.verifier.verify(url, data, { source: peerId ? `p2p ${peerId}` : "p2p" });
    // Only bytes that contradict the signed record convict the sender; an
    // unreachable records endpoint is not the peer's fault.
    if (!verdict.ok && peerId && (verdict.reason === "hash" || verdict.reason === "length")) {
      this.peers.ban(peerId, verdict.reason);
    }
    return verdict.ok;
  }

  /** validateHTTPSegment hook: false makes p2p-media-loader retry, then fail the load. */
  async validateHTTP(url, data) {
    return (await this.p.verifier.verify(url, data, { source: "http" })).ok;
  }

  /**
   * p2p-media-loader's httpRequestSetup hook: undefined keeps its own
   * request; after a rejected copy, the same request bypassing the cache.
   * @param {string} url @param {AbortSignal} signal @param {{start: number, end?: number}|undefined} range
   */
  httpRequest(url, signal, range) {
    if (!this.p.verifier.mustRefetch(url)) return Promise.resolve(undefined);
    const headers = range ? { Range: `bytes=${range.start}-${range.end ?? ""}` } : undefined;
    return Promise.resolve(new Request(url, { headers, signal, cache: "reload" }));
  }

  listen() {
    const { hls, video } = this;
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      const levels = hls.levels;
      const hints = connectionHints();
      const start = pickStartLevel(levels, {
        width: video.clientWidth || 640,
        height: video.clientHeight || 360,
        dpr: window.devicePixelRatio || 1,
        downlinkMbps: hints.downlinkMbps,
      });
      hls.startLevel = start;
      hls.startLoad(-1);
      this.events.onLevels?.(levels.map(renditionOf));
      video.play().catch(() => this.events.onStatus?.("Press play to start"));
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, d) => this.events.onLevelSwitched?.(renditionOf(hls.levels[d.level])));
    hls.on(Hls.Events.LEVEL_UPDATED, (_e, d) => {
      const details = d.details;
      const level = hls.levels[d.level];
      if (level && Number.isFinite(details.endSN)) this.p.book.prefetch(renditionOf(level), details.endSN);
      if (details.live && details.targetduration && details.targetduration !== this.segmentSeconds) {
        this.segmentSeconds = details.targetduration;
        this.engine.applyDynamicConfig({ core: liveWindows(this.hlsMode, this.segmentSeconds) });
      }
    });
    hls.on(Hls.Events.ERROR, (_e, d) => this.onError(d));
  }

  onError(d) {
    this.errors[d.details] = (this.errors[d.details] ?? 0) + 1;
    if (!d.fatal) return;
    const { hls } = this;
    if (d.type === Hls.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
      return;
    }
    this.events.onStatus?.(`Connection problem (${d.details}); retrying…`);
    const manifest = /manifest/i.test(d.details ?? "");
    setTimeout(() => {
      if (this.hls !== hls) return; // destroyed for low latency meanwhile
      if (manifest) hls.loadSource(this.p.src);
      else hls.startLoad(-1);
    }, 2000);
  }

  start() {
    this.started = true;
    if (this.mode === LOW_LATENCY) this.startLowLatency();
    else this.startHls();
  }

  startHls() {
    this.hls.attachMedia(this.video);
    this.hls.loadSource(this.p.src);
  }

  /**
   * Latency mode. normal and fast retune hls.js in place. lowlatency
   * destroys hls.js (and with it the P2P engine) and plays a WHEP session
   * in the same video element; leaving it closes the PeerConnection,
   * deletes the session and builds hls.js afresh, as at page load.
   * @param {PlayerMode} mode
   */
  setMode(mode) {
    if (mode === LOW_LATENCY) {
      if (this.mode === LOW_LATENCY) return;
      if (!canPlayLowLatency()) throw new Error("this browser cannot play low latency (no WebRTC)");
      this.mode = mode;
      this.destroyHls();
      if (this.started) this.startLowLatency();
      return;
    }
    if (!MODES[mode]) throw new Error(`unknown latency mode ${mode}`);
    const fromLowLatency = this.mode === LOW_LATENCY;
    this.mode = mode;
    this.hlsMode = mode;
    if (fromLowLatency) {
      this.stopLowLatency();
      this.buildHls();
      if (this.started) {
        this.stats.started = false; // the new source's start-up wait is not a stall
        this.startHls();
      }
      return;
    }
    const { hls, video } = this;
    hls.targetLatency = MODES[mode].syncSegments * this.segmentSeconds;
    this.engine.applyDynamicConfig({ core: liveWindows(mode, this.segmentSeconds) });
    // Move to the new target now rather than drifting there.
    const sync = hls.liveSyncPosition;
    if (hls.latestLevelDetails?.live && sync !== null && Number.isFinite(sync)) video.currentTime = sync;
  }

  /** Plays the stream over WHEP in the video element (hls.js already gone). */
  startLowLatency() {
    const { video } = this;
    this.stats.started = false; // the new source's start-up wait is not a stall
    this.events.onStatus?.("Connecting (low latency)…");
    const link = new WhepLink({
      endpoint: whepEndpoint(this.p.stream, location.href),
      fetch: (url, init) => fetch(url, init),
      newPeerConnection: (config) => new RTCPeerConnection(config),
      newMediaStream: (tracks) => new MediaStream(tracks),
      onMedia: (stream) => {
        if (this.ll !== link) return;
        video.srcObject = stream;
        video.play().catch(() => this.events.onStatus?.("Press play to start"));
      },
      onStatus: (text) => {
        if (this.ll === link) this.events.onStatus?.(text);
      },
      onFallback: (message) => {
        if (this.ll !== link) return;
        this.setMode("normal");
        this.events.onStatus?.("");
        this.events.onFallback?.(message);
      },
    });
    this.ll = link;
    link.start();
    this.rtcTimer = setInterval(() => this.pollRtcStats(), RTC_STATS_MS);
  }

  /** Closes the PeerConnection, deletes the session and frees the video for hls.js. */
  stopLowLatency() {
    clearInterval(this.rtcTimer);
    this.rtc = null;
    const ll = this.ll;
    this.ll = null;
    const done = ll ? ll.stop() : Promise.resolve();
    if (this.video.srcObject) this.video.srcObject = null;
    return done;
  }

  /** Reads getStats into this.rtc (snapshot() is synchronous). */
  async pollRtcStats() {
    const pc = this.ll?.pc;
    if (!pc) return;
    try {
      const report = await pc.getStats();
      const prev = this.rtc?.pc === pc ? this.rtc.digest : null;
      if (this.ll?.pc === pc) this.rtc = { pc, digest: digestStats(report, prev) };
    } catch {
      // closed meanwhile
    }
  }

  /** The page is going away: end the WHEP session (DELETE with keepalive). */
  unload() {
    if (this.ll?.running) this.ll.stop();
  }

  /** The page came back from the back/forward cache: reconnect low latency. */
  resume() {
    if (this.mode === LOW_LATENCY && this.ll && !this.ll.running) this.ll.start();
  }

  /** Upload to peers on or off (p2p-media-loader isP2PUploadDisabled); remembered for when hls.js is rebuilt. */
  setUpload(on) {
    this.uploadEnabled = on;
    this.engine?.applyDynamicConfig({ core: { isP2PUploadDisabled: !on } });
  }

  /** @param {number} level hls.js level index, -1 = Auto (no effect in low-latency mode) */
  setQuality(level) {
    if (this.hls) this.hls.nextLevel = level;
  }

  rendition() {
    const { hls, video } = this;
    if (!hls) return video.videoHeight ? `${video.videoHeight}p` : null;
    const i = hls.currentLevel >= 0 ? hls.currentLevel : hls.loadLevel;
    return i >= 0 && hls.levels[i] ? renditionOf(hls.levels[i]) : null;
  }

  /** The window.canopy.stats() snapshot. */
  snapshot() {
    if (this.mode === LOW_LATENCY) return this.lowLatencySnapshot();
    const { hls, video, stats, peers } = this;
    return {
      bytes: { ...stats.bytes },
      peersConnected: peers.connected.size,
      peers: peers.peerIds(),
      rendition: this.rendition(),
      latency: hls.latestLevelDetails?.live ? hls.latency : null,
      targetLatency: hls.latestLevelDetails?.live ? hls.targetLatency : null,
      stalls: stats.stalls,
      stallMs: stats.totalStallMs(),
      playing: isPlaying(video) && !stats.stallStart,
      currentTime: video.currentTime,
      verified: this.p.verifier.verified,
      rejected: this.p.verifier.rejected,
      droppedPeers: [...peers.banned.keys()],
      uploadEnabled: this.uploadEnabled,
      uploaded: stats.uploaded,
      corruptedUploads: this.storage.corruptedUploads,
      mode: this.mode,
      p2p: true,
      errors: { ...this.errors },
    };
  }

  /**
   * The snapshot in low-latency mode: the same fields (no P2P: no peers,
   * latency null; bytes, stalls, verified and rejected are what the HLS
   * modes counted) plus webrtc, from the last getStats digest.
   */
  lowLatencySnapshot() {
    const { video, stats, peers } = this;
    const d = this.rtc?.digest;
    return {
      bytes: { ...stats.bytes },
      peersConnected: 0,
      peers: [],
      rendition: this.rendition(),
      latency: null,
      targetLatency: null,
      stalls: stats.stalls,
      stallMs: stats.totalStallMs(),
      playing: isPlaying(video) && !stats.stallStart,
      currentTime: video.currentTime,
      verified: this.p.verifier.verified,
      rejected: this.p.verifier.rejected,
      droppedPeers: [...peers.banned.keys()],
      uploadEnabled: this.uploadEnabled,
      uploaded: stats.uploaded,
      corruptedUploads: this.storage.corruptedUploads,
      mode: this.mode,
      p2p: false,
      errors: { ...this.errors },
      webrtc: {
        state: this.ll?.state ?? "closed",
        server: this.ll?.server ?? "",
        framesDecoded: d?.framesDecoded ?? 0,
        freezeCount: d?.freezeCount ?? 0,
        packetsLost: d?.packetsLost ?? 0,
        nackCount: d?.nackCount ?? 0,
        jitterBufferMs: d?.jitterBufferMs ?? 0,
        width: d?.width || video.videoWidth || 0,
        height: d?.height || video.videoHeight || 0,
        rttMs: d?.rttMs ?? 0,
        playoutDelayMs: d?.playoutDelayMs ?? 0,
        failures: this.ll?.failures ?? 0,
      },
    };
  }
}
