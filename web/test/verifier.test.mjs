// RecordBook + SegmentVerifier against records sealed by package proto, and
// the storage's corrupt test hook.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { RecordBook } from "../src/records.js";
import { decodeBase64 } from "../src/signing.js";
import { LiveSegmentStorage } from "../src/storage.js";
import { SegmentVerifier, parseSegmentUrl } from "../src/verifier.js";

const vectors = JSON.parse(readFileSync(new URL("../testdata/segment_vectors.json", import.meta.url)));
const key = decodeBase64(vectors.public_key);
const byName = Object.fromEntries(vectors.cases.map((c) => [c.name, c]));
const bytes = (c) => {
  const b = Buffer.from(c.data_b64, "base64");
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
};

function setup(records = vectors.cases.map((c) => c.record), broadcast = "20261127T013000Z") {
  const fetches = [];
  const other = [];
  const book = new RecordBook({
    stream: "demo",
    broadcast,
    publicKey: key,
    fetchRecords: async (rendition, since, limit) => {
      fetches.push({ rendition, since, limit });
      return records.filter((r) => r.rendition === rendition && (r.kind === "init" || r.sequence >= since));
    },
    onOtherBroadcast: (b) => other.push(b),
  });
  return { book, verifier: new SegmentVerifier({ stream: "demo", book }), fetches, other };
}

test("segment URLs", () => {
  assert.deepEqual(parseSegmentUrl("http://h:1/live/demo/720p/42.m4s"), { stream: "demo", rendition: "720p", kind: "media", seq: 42 });
  assert.deepEqual(parseSegmentUrl("/live/demo/720p/init-3.mp4?x=1"), { stream: "demo", rendition: "720p", kind: "init", seq: 3 });
  for (const bad of ["/live/demo/720p/042.m4s", "/live/demo/42.m4s", "/x/demo/720p/1.m4s", "/live/demo/720p/1.ts", "/live/demo/720p/sub/1.m4s"]) {
    assert.equal(parseSegmentUrl(bad), null, bad);
  }
});

test("good bytes pass, altered bytes fail, records are fetched once", async () => {
  const { verifier, fetches } = setup();
  const media = byName.media;
  assert.deepEqual(await verifier.verify("/live/demo/720p/42.m4s", bytes(media)), { ok: true });
  assert.deepEqual(await verifier.verify("/live/demo/720p/init-3.mp4", bytes(byName.init)), { ok: true });
  assert.equal(fetches.length, 1, "the init record came with the first response");
  const bad = new Uint8Array(bytes(media));
  bad[3] ^= 1;
  assert.deepEqual(await verifier.verify("/live/demo/720p/42.m4s", bad.buffer), { ok: false, reason: "hash" });
  assert.deepEqual(await verifier.verify("/live/demo/720p/42.m4s", bytes(media).slice(1)), { ok: false, reason: "length" });
  assert.ok(verifier.mustRefetch("/live/demo/720p/42.m4s"), "a rejected URL is fetched past the cache");
  assert.deepEqual(await verifier.verify("/live/demo/720p/42.m4s", bytes(media)), { ok: true });
  assert.equal(verifier.mustRefetch("/live/demo/720p/42.m4s"), false);
  assert.equal(verifier.verified, 3);
  assert.equal(verifier.rejected, 2);
});

test("the record must be for this very file", async () => {
  const { verifier } = setup();
  // Right bytes under another name: segment 43's record does not exist.
  assert.deepEqual(await verifier.verify("/live/demo/720p/43.m4s", bytes(byName.media)), { ok: false, reason: "no-record" });
  // Another rendition's name.
  assert.deepEqual(await verifier.verify("/live/demo/480p/42.m4s", bytes(byName.media)), { ok: false, reason: "no-record" });
  // Another stream.
  assert.deepEqual(await verifier.verify("/live/other/720p/42.m4s", bytes(byName.media)), { ok: false, reason: "not-a-segment" });
});

test("forged and foreign records are refused", async () => {
  const forged = { ...byName.media.record, sha256: "0".repeat(64) };
  const { verifier, book } = setup([forged]);
  assert.deepEqual(await verifier.verify("/live/demo/720p/42.m4s", bytes(byName.media)), { ok: false, reason: "no-record" });
  assert.ok(book.badRecords >= 1);

  const other = setup(undefined, "20261128T000000Z");
  assert.deepEqual(await other.verifier.verify("/live/demo/720p/42.m4s", bytes(byName.media)), { ok: false, reason: "no-record" });
  assert.deepEqual(other.other, ["20261127T013000Z"], "the page hears that the broadcast changed");
});

test("a record carried by the response is used once its signature checks out", async () => {
  const { verifier, fetches } = setup([]);
  const ok = await verifier.verify("/live/demo/720p/42.m4s", bytes(byName.media), { recordJson: byName.media.record });
  assert.deepEqual(ok, { ok: true });
  assert.equal(fetches.length, 0);
  const forged = { ...byName.media.record, length: 1 };
  const { verifier: v2 } = setup([]);
  assert.deepEqual(await v2.verify("/live/demo/720p/42.m4s", bytes(byName.media), { recordJson: forged }), { ok: false, reason: "no-record" });
});

test("corrupt test hook: peers get altered bytes, playback the real ones", async () => {
  const storage = new LiveSegmentStorage({ corruptUploads: true });
  storage.setSegmentChangeCallback(() => {});
  const data = new Uint8Array(4096).map((_, i) => i & 0xff).buffer;
  await storage.storeSegment("s", "stream", 7, data, 14, 16, "main", true);
  // Playback: p2p-media-loader calls onSegmentRequested, then reads at once.
  storage.onSegmentRequested("s", "stream", 7, 14, 16, "main", true);
  const played = await storage.getSegmentData("s", "stream", 7);
  assert.deepEqual(new Uint8Array(played), new Uint8Array(data));
  // Upload: any other read.
  const uploaded = await storage.getSegmentData("s", "stream", 7);
  assert.equal(uploaded.byteLength, data.byteLength);
  assert.notDeepEqual(new Uint8Array(uploaded), new Uint8Array(data));
  assert.equal(storage.corruptedUploads, 1);
  // A playback request whose read does not follow at once expires.
  storage.onSegmentRequested("s", "stream", 7, 14, 16, "main", true);
  await Promise.resolve();
  await Promise.resolve();
  assert.notDeepEqual(new Uint8Array(await storage.getSegmentData("s", "stream", 7)), new Uint8Array(data));
  // Without the hook every read is the real data.
  const honest = new LiveSegmentStorage();
  honest.setSegmentChangeCallback(() => {});
  await honest.storeSegment("s", "stream", 7, data, 14, 16, "main", true);
  assert.deepEqual(new Uint8Array(await honest.getSegmentData("s", "stream", 7)), new Uint8Array(data));
});

test("live storage keeps recent segments and drops old ones", async () => {
  const storage = new LiveSegmentStorage({ keepBehindSeconds: 10 });
  const changed = [];
  storage.setSegmentChangeCallback((id) => changed.push(id));
  const seg = new ArrayBuffer(100);
  for (let i = 0; i < 10; i++) await storage.storeSegment("s", "a", i, seg, 2 * i, 2 * i + 2, "main", true);
  storage.onPlaybackUpdated(18, 1);
  await storage.storeSegment("s", "a", 10, seg, 20, 22, "main", true);
  // Segments ending before 18 - 10 = 8 are gone: 0..2 (ends 2, 4, 6).
  assert.deepEqual(storage.getStoredSegmentIds("s", "a").sort((x, y) => x - y), [3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(storage.hasSegment("s", "a", 2), false);
  assert.ok(storage.getUsage().usedCapacity > 0);
});
