// Checks src/signing.js against records sealed by package proto
// (testdata/segment_vectors.json, kept in sync by web/vector_test.go).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { decodeBase64, parseRecord, parseTimeNs, signingBytes, verifyRecord } from "../src/signing.js";

const vectors = JSON.parse(readFileSync(new URL("../testdata/segment_vectors.json", import.meta.url)));
const key = decodeBase64(vectors.public_key);
const hex = (b) => Buffer.from(b).toString("hex");

test("signing bytes and signatures match package proto", () => {
  assert.ok(vectors.cases.length >= 3);
  for (const c of vectors.cases) {
    const rec = parseRecord(c.record);
    assert.ok(rec, `${c.name}: parse`);
    assert.equal(hex(signingBytes(rec)), c.signing_bytes_hex, `${c.name}: signing bytes`);
    assert.ok(verifyRecord(rec, key), `${c.name}: signature`);
    assert.equal(rec.length, Buffer.from(c.data_b64, "base64").length, `${c.name}: length`);
  }
});

test("any changed field breaks the signature", () => {
  const base = vectors.cases[0].record;
  const changes = {
    stream: "demo2",
    broadcast: "x",
    rendition: "480p",
    sequence: base.sequence + 1,
    discontinuity: 1,
    start_us: base.start_us + 1,
    duration_us: base.duration_us - 1,
    program_date_time: "2026-11-27T01:31:24.124Z",
    length: base.length + 1,
    sha256: "0".repeat(64),
  };
  for (const [field, value] of Object.entries(changes)) {
    const rec = parseRecord({ ...base, [field]: value });
    assert.ok(rec, field);
    assert.equal(verifyRecord(rec, key), false, `changed ${field} still verifies`);
  }
  const otherKey = new Uint8Array(key);
  otherKey[0] ^= 1;
  assert.equal(verifyRecord(parseRecord(base), otherKey), false, "other key verifies");
});

test("malformed records are refused", () => {
  const base = vectors.cases[0].record;
  const bad = [
    { kind: "thumbnail" },
    { stream: "a/b" },
    { rendition: "" },
    { sequence: -1 },
    { sequence: 1.5 },
    { discontinuity: 2 ** 32 },
    { length: 64 * 1024 * 1024 + 1 },
    { sha256: "zz".repeat(32) },
    { signature: "AAAA" },
    { signature: base.signature.replace(/=+$/, "") },
    { program_date_time: "yesterday" },
    { program_date_time: undefined },
  ];
  for (const change of bad) {
    assert.equal(parseRecord({ ...base, ...change }), null, JSON.stringify(change));
  }
  const init = vectors.cases.find((c) => c.record.kind === "init").record;
  assert.equal(parseRecord({ ...init, sequence: init.sequence + 1 }), null, "init sequence != discontinuity");
  assert.equal(parseRecord({ ...init, program_date_time: base.program_date_time }), null, "init with a date");
});

test("RFC 3339 times keep nanoseconds and offsets", () => {
  assert.equal(parseTimeNs("1970-01-01T00:00:00Z"), 0n);
  assert.equal(parseTimeNs("1970-01-01T00:00:01.000000002Z"), 1_000_000_002n);
  assert.equal(parseTimeNs("1970-01-01T01:00:00+01:00"), 0n);
  assert.equal(parseTimeNs("2026-02-30T00:00:00Z"), null);
  assert.equal(parseTimeNs("2026-01-01 00:00:00Z"), null);
});
