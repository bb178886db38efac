// Stand-in for hls.js's url-toolkit dependency (not installed; only the
// dist bundle carries it) so gen_golden.ts can bundle hls.js's parser.
export function buildAbsoluteURL(base: string, relative: string): string {
  return new URL(relative, base).href;
}

// Stand-in for @svta/cml-id3 (also not installed); the playlist parser never
// calls it.
export function utf8ArrayToStr(): string {
  throw new Error("not available in the golden generator");
}
