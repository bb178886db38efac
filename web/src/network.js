// What the browser says about the viewer's connection and screen.

/** @returns {{saveData: boolean, cellular: boolean, downlinkMbps: number|undefined}} */
export function connectionHints() {
  const c = /** @type {any} */ (navigator).connection;
  const downlink = typeof c?.downlink === "number" && c.downlink > 0 ? c.downlink : undefined;
  return { saveData: c?.saveData === true, cellular: c?.type === "cellular", downlinkMbps: downlink };
}

/**
 * Upload to peers starts off on metered or data-saving connections.
 * @param {ReturnType<typeof connectionHints>} hints
 */
export function uploadByDefault(hints) {
  return !hints.saveData && !hints.cellular;
}

/**
 * The first level to load: the best one that fits the player in device
 * pixels and, when the browser reports it, the downlink. Levels are hls.js
 * levels (sorted by bitrate, lowest first).
 * @param {{width: number, height: number, bitrate: number}[]} levels
 * @param {{width: number, height: number, dpr: number, downlinkMbps?: number}} view
 * @returns {number} level index (0 if nothing fits)
 */
export function pickStartLevel(levels, view) {
  const maxW = Math.max(1, view.width * view.dpr);
  const maxH = Math.max(1, view.height * view.dpr);
  // navigator.connection.downlink is coarse (and capped at 10 Mb/s in
  // Chromium); keep a fifth back for audio, overhead and error.
  const maxBits = view.downlinkMbps ? view.downlinkMbps * 1e6 * 0.8 : Infinity;
  let best = 0;
  levels.forEach((l, i) => {
    // A rung may exceed the box a little (a 720p rung in a 1200x675 box).
    const fits = (!l.width || l.width <= maxW * 1.15) && (!l.height || l.height <= maxH * 1.15);
    if (fits && l.bitrate <= maxBits && l.bitrate >= levels[best].bitrate) best = i;
  });
  return best;
}
