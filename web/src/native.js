// Playback where Media Source Extensions are missing (iPhone Safari before
// iOS 17.1, some TVs): the video element plays the HLS playlist itself. The
// page cannot see or check the bytes then, so there is no P2P and no
// in-page verification; segments come straight from the server.
import { Stats, isPlaying } from "./stats.js";

export class NativePlayer {
  /** @param {{video: HTMLVideoElement, src: string, mode: "normal"|"fast"}} p */
  constructor({ video, src, mode }) {
    this.video = video;
    this.src = src;
    this.mode = mode;
    this.stats = new Stats();
    this.stats.watch(video);
  }

  start() {
    this.video.src = this.src;
    this.video.play().catch(() => {});
  }

  /** Seconds behind the end of the seekable live range, if known. */
  latency() {
    const r = this.video.seekable;
    return r.length ? Math.max(0, r.end(r.length - 1) - this.video.currentTime) : null;
  }

  snapshot() {
    const v = this.video;
    return {
      bytes: { ...this.stats.bytes },
      peersConnected: 0,
      peers: [],
      rendition: v.videoHeight ? `${v.videoHeight}p` : null,
      latency: this.latency(),
      targetLatency: null,
      stalls: this.stats.stalls,
      stallMs: this.stats.totalStallMs(),
      playing: isPlaying(v) && !this.stats.stallStart,
      currentTime: v.currentTime,
      verified: 0,
      rejected: 0,
      droppedPeers: [],
      uploadEnabled: false,
      uploaded: 0,
      corruptedUploads: 0,
      mode: this.mode,
      p2p: false,
      errors: this.video.error ? { [`media-error-${this.video.error.code}`]: 1 } : {},
    };
  }
}
