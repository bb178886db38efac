// The page's cache of origin-signed segment records, filled from
// GET /live/{stream}/{rendition}/records.json?since=<seq>&limit=<n>.
// A record enters the cache only after its signature checks out, so a
// lookup hit is already trusted; checking a segment is then one SHA-256.
import { parseRecord, verifyRecord } from "./signing.js";

/** How many records one records.json request asks for. */
const FETCH_LIMIT = 100;
/** Media records kept per rendition (10 minutes of 2 s segments is 300). */
const KEEP_MEDIA = 1000;

/**
 * @typedef {import("./signing.js").SegmentRecord} SegmentRecord
 * @typedef {{media: Map<number, SegmentRecord>, init: Map<number, SegmentRecord>, maxSeq: number, inflight: Promise<void>|null}} RenditionRecords
 */

export class RecordBook {
  /**
   * @param {object} p
   * @param {string} p.stream
   * @param {string} p.broadcast the broadcast the page plays; records of another are not used
   * @param {Uint8Array} p.publicKey origin's Ed25519 key
   * @param {(rendition: string, since: number, limit: number) => Promise<any[]>} [p.fetchRecords]
   * @param {(broadcast: string) => void} [p.onOtherBroadcast] called once when validly signed
   *   records of a different broadcast arrive (the stream restarted)
   */
  constructor({ stream, broadcast, publicKey, fetchRecords, onOtherBroadcast }) {
    this.stream = stream;
    this.broadcast = broadcast;
    this.publicKey = publicKey;
    this.fetchRecords = fetchRecords ?? ((r, since, limit) => defaultFetch(stream, r, since, limit));
    this.onOtherBroadcast = onOtherBroadcast ?? (() => {});
    this.otherBroadcastSeen = false;
    /** @type {Map<string, RenditionRecords>} */
    this.renditions = new Map();
    this.badRecords = 0;
  }

  /** @param {string} rendition @returns {RenditionRecords} */
  state(rendition) {
    let s = this.renditions.get(rendition);
    if (!s) {
      s = { media: new Map(), init: new Map(), maxSeq: -1, inflight: null };
      this.renditions.set(rendition, s);
    }
    return s;
  }

  /**
   * Adds a record in its JSON form if it is well formed, signed by the
   * origin and belongs to this page's stream and broadcast.
   * @param {any} json
   * @returns {SegmentRecord|null} the record, or null when refused
   */
  add(json) {
    const rec = parseRecord(json);
    if (!rec || rec.stream !== this.stream || !verifyRecord(rec, this.publicKey)) {
      this.badRecords++;
      return null;
    }
    if (rec.broadcast !== this.broadcast) {
      if (!this.otherBroadcastSeen) {
        this.otherBroadcastSeen = true;
        this.onOtherBroadcast(rec.broadcast);
      }
      return null;
    }
    const s = this.state(rec.rendition);
    if (rec.kind === "init") {
      s.init.set(rec.sequence, rec);
      return rec;
    }
    s.media.set(rec.sequence, rec);
    s.maxSeq = Math.max(s.maxSeq, rec.sequence);
    if (s.media.size > KEEP_MEDIA) {
      const drop = [...s.media.keys()].sort((a, b) => a - b).slice(0, s.media.size - KEEP_MEDIA);
      for (const k of drop) s.media.delete(k);
    }
    return rec;
  }

  /**
   * @param {string} rendition @param {"init"|"media"} kind @param {number} seq
   * @returns {SegmentRecord|undefined}
   */
  peek(rendition, kind, seq) {
    const s = this.renditions.get(rendition);
    return s && (kind === "init" ? s.init : s.media).get(seq);
  }

  /**
   * Returns the record of a segment, asking the origin when it is not cached
   * yet (a new live segment usually is not). Null if the origin has none.
   * @param {string} rendition @param {"init"|"media"} kind @param {number} seq
   * @returns {Promise<SegmentRecord|null>}
   */
  async get(rendition, kind, seq) {
    // Two rounds: a fetch already in flight may have started before this
    // segment existed, so one more fetch follows if it did not bring it.
    for (let round = 0; round < 2; round++) {
      const hit = this.peek(rendition, kind, seq);
      if (hit) return hit;
      await this.refresh(rendition, kind === "media" ? seq : undefined);
    }
    return this.peek(rendition, kind, seq) ?? null;
  }

  /**
   * Fetches records of a rendition, at most one request at a time per
   * rendition. Every response also carries the init records.
   * @param {string} rendition
   * @param {number} [seq] a media sequence number that is wanted
   */
  async refresh(rendition, seq) {
    const s = this.state(rendition);
    if (s.inflight) return s.inflight;
    let since = s.maxSeq + 1;
    if (seq !== undefined && (seq < since || seq - since >= FETCH_LIMIT)) since = seq;
    s.inflight = (async () => {
      try {
        const list = await this.fetchRecords(rendition, since, FETCH_LIMIT);
        if (Array.isArray(list)) for (const j of list) this.add(j);
      } catch (err) {
        console.warn(`canopy: records for ${rendition}: ${err}`);
      } finally {
        s.inflight = null;
      }
    })();
    return s.inflight;
  }

  /**
   * Starts fetching records up to a sequence the playlist just announced,
   * so the check of that segment needs no round trip of its own.
   * @param {string} rendition @param {number} lastSeq
   */
  prefetch(rendition, lastSeq) {
    const s = this.state(rendition);
    if (lastSeq > s.maxSeq && !s.inflight) void this.refresh(rendition, Math.max(s.maxSeq + 1, lastSeq - FETCH_LIMIT + 1));
  }
}

/**
 * @param {string} stream @param {string} rendition @param {number} since @param {number} limit
 * @returns {Promise<any[]>}
 */
async function defaultFetch(stream, rendition, since, limit) {
  const url = `/live/${encodeURIComponent(stream)}/${encodeURIComponent(rendition)}/records.json?since=${since}&limit=${limit}`;
  const res = await fetch(url, { cache: "no-store" });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}
