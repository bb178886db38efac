// The JSON endpoints the pages read.

/**
 * @typedef {{name: string, width: number, height: number, bandwidth: number, codecs?: string}} Rendition
 * @typedef {{id: string, live: boolean, ended: boolean, broadcast?: string, renditions: Rendition[], viewers: number, hls?: string, dash?: string}} StreamInfo
 * @typedef {{public_key: string, trackers: string[]}} PlayerInfo
 */

/** @param {string} url */
async function getJSON(url) {
  const res = await fetch(url, { cache: "no-store" });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** @returns {Promise<StreamInfo[]>} */
export async function listStreams() {
  const list = await getJSON("/api/v1/streams");
  return Array.isArray(list) ? list : [];
}

/** @param {string} id @returns {Promise<StreamInfo|undefined>} */
export async function streamInfo(id) {
  return (await listStreams()).find((s) => s.id === id);
}

/** @returns {Promise<PlayerInfo>} */
export async function playerInfo() {
  const j = await getJSON("/api/v1/player");
  return {
    public_key: typeof j.public_key === "string" ? j.public_key : "",
    trackers: Array.isArray(j.trackers) ? j.trackers.filter((t) => typeof t === "string" && /^wss?:\/\//.test(t)) : [],
  };
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
