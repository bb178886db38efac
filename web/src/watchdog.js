// A watchdog around p2p-media-loader's hls.js fragment loader.
//
// p2p-media-loader-core 2.3.1 retries a failed HTTP download (say, a copy
// that failed verification) only while the segment is inside the
// high-demand window of its idea of the playhead. Before playback starts
// that idea is media.currentTime = 0 while a live stream's first segment
// starts seconds later, so a failed first download is never retried; and
// its loader has no timeout of its own, so hls.js waits forever (seen in
// tests with a corrupting proxy). The watchdog takes over a fragment the
// engine has not delivered after STUCK_MS while the player has less than
// LOW_BUFFER_S of media ahead: it cancels the engine's request and fetches
// the fragment with hls.js's own loader (the verifying one), handing the
// result to hls.js as if nothing happened.

const STUCK_MS = 4000;
const LOW_BUFFER_S = 1;
const CHECK_MS = 500;

/** @param {HTMLVideoElement} video @returns {number} seconds buffered ahead of the playhead */
function bufferAhead(video) {
  const t = video.currentTime;
  const b = video.buffered;
  for (let i = 0; i < b.length; i++) if (b.start(i) <= t + 0.1 && t < b.end(i)) return b.end(i) - t;
  return 0;
}

/**
 * @param {any} P2PLoader the fLoader class p2p-media-loader gave hls.js
 * @param {any} FallbackLoader hls.js loader class to use instead (the verifying one)
 * @param {HTMLVideoElement} video
 * @param {(url: string) => void} [onTakeOver]
 */
export function watchdogLoader(P2PLoader, FallbackLoader, video, onTakeOver) {
  return class WatchdogFragmentLoader extends P2PLoader {
    constructor(config) {
      super(config);
      this.hlsConfig = config;
    }

    load(context, config, callbacks) {
      const started = performance.now();
      let tookOver = false;
      const stop = () => clearInterval(this.watch);
      this.watch = setInterval(() => {
        if (performance.now() - started < STUCK_MS || bufferAhead(video) >= LOW_BUFFER_S) return;
        stop();
        tookOver = true;
        onTakeOver?.(context.url);
        super.abort(); // cancels the engine request; its callbacks are muted below
        this.stats.aborted = false;
        this.fallback = new FallbackLoader(this.hlsConfig);
        this.fallback.stats = this.stats;
        this.fallback.load(context, config, callbacks);
      }, CHECK_MS);
      const mute =
        (fn) =>
        (...args) => {
          if (tookOver) return;
          stop();
          fn?.(...args);
        };
      super.load(context, config, {
        ...callbacks,
        onSuccess: mute(callbacks.onSuccess),
        onError: mute(callbacks.onError),
        onAbort: mute(callbacks.onAbort),
        onTimeout: mute(callbacks.onTimeout),
      });
    }

    abort() {
      clearInterval(this.watch);
      if (this.fallback) this.fallback.abort();
      else super.abort();
    }

    destroy() {
      clearInterval(this.watch);
      if (this.fallback) this.fallback.destroy();
      else super.destroy();
    }
  };
}
