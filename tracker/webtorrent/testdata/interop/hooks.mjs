// Module resolution hook for the interop test: bittorrent-tracker's
// simple-peer imports 'webrtc-polyfill', whose native module is not built
// here (npm ci --ignore-scripts), so it is served by stub-webrtc.mjs.
export async function resolve (specifier, context, nextResolve) {
  if (specifier === 'webrtc-polyfill') {
    return { url: new URL('./stub-webrtc.mjs', import.meta.url).href, shortCircuit: true }
  }
  return nextResolve(specifier, context)
}
