// Playback and delivery statistics: where the bytes came from, stalls.
import { RELAY_PREFIX } from "./peers.js";

export class Stats {
  constructor() {
    /** Bytes received, by source. Counted as they arrive (p2p-media-loader's
     * onChunkDownloaded), so bytes later rejected by verification count too. */
    this.bytes = { relay: 0, peer: 0, http: 0 };
    this.uploaded = 0;
    this.stalls = 0;
    this.stallMs = 0;
    this.stallStart = 0;
    this.started = false;
  }

  /** Counts downloads and uploads reported by a p2p-media-loader engine. */
  attach(engine) {
    engine.addEventListener("onChunkDownloaded", (bytes, source, peerId) => this.count(bytes, source, peerId));
    engine.addEventListener("onChunkUploaded", (bytes) => {
      this.uploaded += bytes;
    });
  }

  /**
   * @param {number} bytes @param {"http"|"p2p"} source @param {string} [peerId]
   */
  count(bytes, source, peerId) {
    if (source === "http") this.bytes.http += bytes;
    else if (peerId?.startsWith(RELAY_PREFIX)) this.bytes.relay += bytes;
    else this.bytes.peer += bytes;
  }

  /**
   * Counts stalls: the video waiting for data after it has started playing
   * (not because of a seek); the stall lasts until it plays again.
   * @param {HTMLVideoElement} video
   */
  watch(video) {
    // Waiting for data after a seek (by the viewer, or by a latency mode
    // switch) until playback resumes is the seek's cost, not a stall.
    let seekPending = false;
    const end = () => {
      if (!this.stallStart) return;
      this.stallMs += performance.now() - this.stallStart;
      this.stallStart = 0;
    };
    video.addEventListener("playing", () => {
      this.started = true;
      seekPending = false;
      end();
    });
    video.addEventListener("waiting", () => {
      if (!this.started || video.seeking || seekPending || this.stallStart) return;
      this.stalls++;
      this.stallStart = performance.now();
    });
    // A seek or pause during a stall ends it: what follows is not a stall.
    video.addEventListener("seeking", () => {
      seekPending = true;
      end();
    });
    video.addEventListener("pause", end);
  }

  /** Total stall time so far, including a stall in progress. */
  totalStallMs() {
    return Math.round(this.stallMs + (this.stallStart ? performance.now() - this.stallStart : 0));
  }
}

/** @param {{relay: number, peer: number, http: number}} b */
export function shares(b) {
  const total = b.relay + b.peer + b.http;
  const pct = (n) => (total ? Math.round((1000 * n) / total) / 10 : 0);
  return { total, relay: pct(b.relay), peer: pct(b.peer), http: pct(b.http) };
}

/** @param {HTMLVideoElement} video */
export function isPlaying(video) {
  return !video.paused && !video.ended && video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA;
}
