// Checks segment bytes against their origin-signed record before they are
// played or shared. Used for every source: p2p-media-loader's HTTP and P2P
// validation hooks and the verifying hls.js loader (init segments and
// anything hls.js fetches itself).
import { sha256 as jsSha256 } from "@noble/hashes/sha2.js";

const MEDIA_FILE = /^(0|[1-9][0-9]{0,15})\.m4s$/;
const INIT_FILE = /^init-(0|[1-9][0-9]{0,9})\.mp4$/;

/**
 * Where a segment URL points: /live/{stream}/{rendition}/<seq>.m4s or
 * /live/{stream}/{rendition}/init-<disc>.mp4. Null for anything else.
 * @param {string} url absolute or page-relative
 * @returns {{stream: string, rendition: string, kind: "init"|"media", seq: number}|null}
 */
export function parseSegmentUrl(url) {
  let path;
  try {
    path = new URL(url, globalThis.location?.href ?? "http://localhost/").pathname;
  } catch {
    return null;
  }
  const parts = path.split("/");
  if (parts.length !== 5 || parts[0] !== "" || parts[1] !== "live") return null;
  let stream, rendition;
  try {
    stream = decodeURIComponent(parts[2]);
    rendition = decodeURIComponent(parts[3]);
  } catch {
    return null;
  }
  let m = MEDIA_FILE.exec(parts[4]);
  if (m) return { stream, rendition, kind: "media", seq: Number(m[1]) };
  m = INIT_FILE.exec(parts[4]);
  if (m) return { stream, rendition, kind: "init", seq: Number(m[1]) };
  return null;
}

/**
 * SHA-256 through WebCrypto where the page is a secure context (faster, off
 * the main thread), in JavaScript where it is not (plain-HTTP LAN pages).
 * @param {ArrayBuffer} data
 * @returns {Promise<Uint8Array>}
 */
export async function sha256(data) {
  const subtle = globalThis.isSecureContext ? globalThis.crypto?.subtle : undefined;
  if (subtle) {
    try {
      return new Uint8Array(await subtle.digest("SHA-256", data));
    } catch {
      // fall through to the JavaScript implementation
    }
  }
  return jsSha256(new Uint8Array(data));
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * @typedef {{ok: true} | {ok: false, reason: "not-a-segment"|"no-record"|"length"|"hash"}} Verdict
 * "no-record" means the page could not learn the record (the origin did not
 * answer): not evidence against the sender. "length" and "hash" are.
 */

export class SegmentVerifier {
  /**
   * @param {object} p
   * @param {string} p.stream
   * @param {import("./records.js").RecordBook} p.book
   */
  constructor({ stream, book }) {
    this.stream = stream;
    this.book = book;
    this.verified = 0;
    this.rejected = 0;
    /** URL -> time of its last rejection; see mustRefetch. */
    this.rejectedAt = new Map();
    /** @type {{url: string, reason: string, source: string, at: number}[]} last few rejections */
    this.recentRejections = [];
  }

  /**
   * @param {string} url
   * @param {ArrayBuffer} data
   * @param {{source?: string, recordJson?: any}} [opts] source is for logs;
   *   recordJson is a record the response carried (Canopy-Record header),
   *   used only after its signature checks out like any other
   * @returns {Promise<Verdict>}
   */
  async verify(url, data, opts = {}) {
    const verdict = await this.check(url, data, opts.recordJson);
    if (verdict.ok) {
      this.verified++;
      this.rejectedAt.delete(url);
    } else {
      this.rejected++;
      this.rejectedAt.set(url, Date.now());
      if (this.rejectedAt.size > 200) this.rejectedAt.delete(this.rejectedAt.keys().next().value);
      this.recentRejections.push({ url, reason: verdict.reason, source: opts.source ?? "?", at: Date.now() });
      if (this.recentRejections.length > 20) this.recentRejections.shift();
      console.warn(`canopy: rejected ${opts.source ?? ""} segment ${url}: ${verdict.reason}`);
    }
    return verdict;
  }

  /**
   * Whether a fetch of url must skip the browser's HTTP cache: the last copy
   * failed the check within the past minute. Segments are served as
   * immutable, so without this a retry would get the same bad bytes back
   * from the cache forever.
   * @param {string} url
   */
  mustRefetch(url) {
    const at = this.rejectedAt.get(url);
    return at !== undefined && Date.now() - at < 60_000;
  }

  /** @returns {Promise<Verdict>} */
  async check(url, data, recordJson) {
    const where = parseSegmentUrl(url);
    if (!where || where.stream !== this.stream) return { ok: false, reason: "not-a-segment" };
    const { rendition, kind, seq } = where;
    if (recordJson && !this.book.peek(rendition, kind, seq)) this.book.add(recordJson);
    const rec = await this.book.get(rendition, kind, seq);
    if (!rec) return { ok: false, reason: "no-record" };
    // The book only holds signed records of this stream and broadcast;
    // the record must also be the one for this very file.
    if (rec.rendition !== rendition || rec.kind !== kind || rec.sequence !== seq) {
      return { ok: false, reason: "no-record" };
    }
    if (data.byteLength !== rec.length) return { ok: false, reason: "length" };
    if (!equalBytes(await sha256(data), rec.sha256)) return { ok: false, reason: "hash" };
    return { ok: true };
  }
}
