// Segment storage for p2p-media-loader (core config
// customSegmentStorageFactory), tuned for live and carrying the ?corrupt=1
// test hook.
//
// Why not the built-in memory storage: for live streams it drops a segment
// as soon as the playhead is highDemandTimeWindow past its end. Canopy keeps
// that window short (see p2pconfig.js), which would leave viewers a few
// seconds behind us nothing to fetch. This storage keeps segments for
// keepBehindSeconds after they played, within a memory cap.

const MiB = 1024 * 1024;
const key = (streamId, segmentId) => `${streamId}|${segmentId}`;

/**
 * @typedef {{streamId: string, segmentId: number, data: ArrayBuffer, startTime: number, endTime: number}} Item
 */

/** @implements {import("p2p-media-loader-core").SegmentStorage} */
export class LiveSegmentStorage {
  /**
   * @param {object} [p]
   * @param {number} [p.keepBehindSeconds] how long a played segment stays shareable
   * @param {number} [p.limitMiB] memory cap (core config segmentMemoryStorageLimit wins if set)
   * @param {boolean} [p.corruptUploads] TEST HOOK (?corrupt=1): hand peers altered bytes
   */
  constructor({ keepBehindSeconds = 30, limitMiB = 256, corruptUploads = false } = {}) {
    this.keepBehind = keepBehindSeconds;
    this.limitMiB = limitMiB;
    this.corruptUploads = corruptUploads;
    /** @type {Map<string, Item>} */
    this.items = new Map();
    this.bytes = 0;
    this.position = 0;
    this.onChange = (/** @type {string} */ _streamId) => {};
    /** Storage key p2p-media-loader is about to read for playback (see getSegmentData). */
    this.playbackRead = null;
    /** Uploads this page corrupted on purpose (test hook). */
    this.corruptedUploads = 0;
  }

  async initialize(coreConfig) {
    if (coreConfig?.segmentMemoryStorageLimit) this.limitMiB = coreConfig.segmentMemoryStorageLimit;
  }

  onPlaybackUpdated(position) {
    this.position = position;
  }

  onSegmentRequested(_swarmId, streamId, segmentId) {
    // p2p-media-loader-core 2.3.1 (HybridLoader.loadSegment) calls this for
    // every segment the player asks for, then, in the same synchronous run,
    // getSegmentData if the segment is stored. Uploads to peers call
    // getSegmentData from a network event, never inside that run. So a read
    // of this key before the next microtask is playback, anything else is
    // an upload. Only the corrupt test hook depends on telling them apart.
    const k = key(streamId, segmentId);
    this.playbackRead = k;
    queueMicrotask(() => {
      if (this.playbackRead === k) this.playbackRead = null;
    });
  }

  async storeSegment(_swarmId, streamId, segmentId, data, startTime, endTime) {
    const k = key(streamId, segmentId);
    const old = this.items.get(k);
    if (old) this.bytes -= old.data.byteLength;
    this.items.set(k, { streamId, segmentId, data, startTime, endTime });
    this.bytes += data.byteLength;
    this.evict();
    this.onChange(streamId);
  }

  async getSegmentData(_swarmId, streamId, segmentId) {
    const k = key(streamId, segmentId);
    const item = this.items.get(k);
    if (!item) return undefined;
    if (this.playbackRead === k) {
      this.playbackRead = null;
      return item.data;
    }
    return this.corruptUploads ? this.corrupt(item.data) : item.data;
  }

  /**
   * TEST HOOK: a copy of data with bytes flipped through the middle, same
   * length, so it passes p2p-media-loader's size checks and must be caught
   * by the receiver's hash check.
   * @param {ArrayBuffer} data
   */
  corrupt(data) {
    const copy = new Uint8Array(data.slice(0));
    const step = Math.max(1, Math.floor(copy.length / 64));
    for (let i = Math.floor(copy.length / 2) % step; i < copy.length; i += step) copy[i] ^= 0xa5;
    this.corruptedUploads++;
    return copy.buffer;
  }

  getUsage() {
    let ahead = 0;
    for (const item of this.items.values()) if (item.endTime >= this.position) ahead += item.data.byteLength;
    return { totalCapacity: this.limitMiB, usedCapacity: ahead / MiB };
  }

  hasSegment(_swarmId, streamId, segmentId) {
    return this.items.has(key(streamId, segmentId));
  }

  getStoredSegmentIds(_swarmId, streamId) {
    const ids = [];
    for (const item of this.items.values()) if (item.streamId === streamId) ids.push(item.segmentId);
    return ids;
  }

  setSegmentChangeCallback(callback) {
    this.onChange = callback;
  }

  /** Drops segments that played more than keepBehind ago, then the oldest while over the cap. */
  evict() {
    const changed = new Set();
    const drop = (k, item) => {
      this.items.delete(k);
      this.bytes -= item.data.byteLength;
      changed.add(item.streamId);
    };
    for (const [k, item] of this.items) if (item.endTime < this.position - this.keepBehind) drop(k, item);
    if (this.bytes > this.limitMiB * MiB) {
      const byAge = [...this.items].sort((a, b) => a[1].startTime - b[1].startTime);
      for (const [k, item] of byAge) {
        if (this.bytes <= this.limitMiB * MiB) break;
        drop(k, item);
      }
    }
    for (const streamId of changed) this.onChange(streamId);
  }

  destroy() {
    this.items.clear();
    this.bytes = 0;
  }
}
