// Signed segment records: the JSON form (proto/json.go) and the exact bytes
// the origin signs (proto/signing.go, SigningBytes). Pure functions, no I/O.
//
// Ed25519 runs in JavaScript (@noble/ed25519 with @noble/hashes' SHA-512)
// rather than WebCrypto, because pages served over plain HTTP on a LAN are
// not a secure context and have no crypto.subtle.
import { hashes, verify } from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

hashes.sha512 = sha512;

/** Domain-separation tag that starts the signing bytes. */
export const SIGNING_DOMAIN = "canopy/segment/v1";

/** Segment kinds as SigningBytes encodes them. */
export const KIND = Object.freeze({ init: 1, media: 2 });

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const MAX_LENGTH = 64 * 1024 * 1024;
const MAX_UINT32 = 0xffffffff;

/**
 * @typedef {object} SegmentRecord
 * @property {string} stream
 * @property {string} broadcast
 * @property {string} rendition
 * @property {"init"|"media"} kind
 * @property {number} sequence media sequence, or discontinuity number of an init segment
 * @property {number} discontinuity
 * @property {bigint} startNs
 * @property {bigint} durationNs
 * @property {bigint|null} pdtNs program date-time, ns since the Unix epoch; null if unset
 * @property {number} length
 * @property {Uint8Array} sha256
 * @property {Uint8Array} signature
 */

const isCount = (v, max = Number.MAX_SAFE_INTEGER) => Number.isSafeInteger(v) && v >= 0 && v <= max;

/**
 * Decodes canonical standard base64 (what Go's StdEncoding writes).
 * @param {string} s
 * @returns {Uint8Array|null}
 */
export function decodeBase64(s) {
  if (typeof s !== "string" || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  let bin;
  try {
    bin = atob(s);
  } catch {
    return null;
  }
  const out = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return btoa(bin) === s ? out : null;
}

/** @param {string} hex @returns {Uint8Array} */
function hexBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Parses an RFC 3339 time to nanoseconds since the Unix epoch, keeping
 * every fractional digit up to nanoseconds (Date.parse would stop at ms).
 * @param {string} s
 * @returns {bigint|null}
 */
export function parseTimeNs(s) {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec);
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCDate() !== +d || +h > 23 || +mi > 59 || +sec > 59) return null;
  let ns = BigInt(ms) * 1_000_000n;
  if (frac) ns += BigInt(frac.slice(1, 10).padEnd(9, "0"));
  if (zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1n : 1n;
    const offMin = BigInt(+zone.slice(1, 3) * 60 + +zone.slice(4, 6));
    ns -= sign * offMin * 60_000_000_000n;
  }
  return ns;
}

/**
 * Parses and sanity-checks a record's JSON form (not its signature). Returns
 * null for anything proto.Segment.UnmarshalJSON would reject.
 * @param {any} j
 * @returns {SegmentRecord|null}
 */
export function parseRecord(j) {
  if (!j || typeof j !== "object") return null;
  const { stream, broadcast, rendition, kind, sequence, discontinuity } = j;
  if (![stream, broadcast, rendition].every((n) => typeof n === "string" && NAME.test(n))) return null;
  if (kind !== "init" && kind !== "media") return null;
  if (!isCount(sequence) || !isCount(discontinuity, MAX_UINT32)) return null;
  if (!isCount(j.start_us) || !isCount(j.duration_us) || !isCount(j.length, MAX_LENGTH)) return null;
  if (typeof j.sha256 !== "string" || !HEX64.test(j.sha256)) return null;
  const signature = decodeBase64(j.signature);
  if (!signature || signature.length !== 64) return null;
  let pdtNs = null;
  if (j.program_date_time !== undefined) {
    pdtNs = typeof j.program_date_time === "string" ? parseTimeNs(j.program_date_time) : null;
    if (pdtNs === null) return null;
  }
  if (kind === "init") {
    if (sequence !== discontinuity || j.start_us !== 0 || j.duration_us !== 0 || pdtNs !== null) return null;
  } else if (pdtNs === null || pdtNs < 0n) {
    return null;
  }
  return {
    stream,
    broadcast,
    rendition,
    kind,
    sequence,
    discontinuity,
    startNs: BigInt(j.start_us) * 1000n,
    durationNs: BigInt(j.duration_us) * 1000n,
    pdtNs,
    length: j.length,
    sha256: hexBytes(j.sha256),
    signature,
  };
}

/**
 * The exact bytes the origin signs; see SigningBytes in proto/signing.go.
 * Integers are big-endian, fixed width; a string is a uint32 length and its
 * UTF-8 bytes.
 * @param {SegmentRecord} r
 * @returns {Uint8Array}
 */
export function signingBytes(r) {
  const enc = new TextEncoder();
  const strings = [SIGNING_DOMAIN, r.stream, r.broadcast, r.rendition].map((s) => enc.encode(s));
  const size = strings.reduce((n, s) => n + 4 + s.length, 0) + 1 + 8 + 4 + 8 + 8 + 1 + 8 + 8 + 32;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const s of strings) {
    view.setUint32(off, s.length);
    out.set(s, off + 4);
    off += 4 + s.length;
  }
  view.setUint8(off, KIND[r.kind]);
  view.setBigUint64(off + 1, BigInt(r.sequence));
  view.setUint32(off + 9, r.discontinuity);
  view.setBigInt64(off + 13, r.startNs);
  view.setBigInt64(off + 21, r.durationNs);
  view.setUint8(off + 29, r.pdtNs === null ? 0 : 1);
  view.setBigInt64(off + 30, r.pdtNs ?? 0n);
  view.setBigUint64(off + 38, BigInt(r.length));
  out.set(r.sha256, off + 46);
  return out;
}

/**
 * Checks the record's Ed25519 signature against the origin's public key.
 * Uses the strict (RFC 8032) rules, not ZIP-215: the origin signs with Go's
 * crypto/ed25519 and never produces the edge cases ZIP-215 admits.
 * @param {SegmentRecord} r
 * @param {Uint8Array} publicKey 32 bytes
 * @returns {boolean}
 */
export function verifyRecord(r, publicKey) {
  try {
    return verify(r.signature, signingBytes(r), publicKey, { zip215: false });
  } catch {
    return false;
  }
}
