import assert from "node:assert/strict";
import { test } from "node:test";
import { pickStartLevel } from "../src/network.js";
import { liveWindows, rtcConfigFor } from "../src/p2pconfig.js";

const ladder = [
  { width: 256, height: 144, bitrate: 300e3 },
  { width: 854, height: 480, bitrate: 1.4e6 },
  { width: 1280, height: 720, bitrate: 3e6 },
  { width: 1920, height: 1080, bitrate: 6e6 },
];

test("start level fits the player and the downlink", () => {
  const cases = [
    { view: { width: 375, height: 211, dpr: 2 }, want: 1 }, // phone: 750x422 device px
    { view: { width: 375, height: 211, dpr: 3 }, want: 2 }, // 1125x633
    { view: { width: 1280, height: 720, dpr: 1 }, want: 2 },
    { view: { width: 1920, height: 1080, dpr: 1 }, want: 3 },
    { view: { width: 1920, height: 1080, dpr: 1, downlinkMbps: 2 }, want: 1 },
    { view: { width: 1920, height: 1080, dpr: 1, downlinkMbps: 0.1 }, want: 0 },
    { view: { width: 100, height: 56, dpr: 1 }, want: 0 },
  ];
  for (const { view, want } of cases) assert.equal(pickStartLevel(ladder, view), want, JSON.stringify(view));
});

test("live windows leave peers time before HTTP in normal mode", () => {
  const w = liveWindows("normal", 2);
  const latency = 6;
  const p2pSeconds = latency - 2 - w.highDemandTimeWindow;
  assert.equal(p2pSeconds, 2);
  assert.ok(w.highDemandTimeWindow >= 2, "HTTP fallback needs a segment's time");
  assert.ok(w.p2pDownloadTimeWindow > latency);
  const fast = liveWindows("fast", 2);
  assert.ok(fast.httpDownloadTimeWindow < w.httpDownloadTimeWindow, "fast mode plays closer to the edge");
  assert.ok(fast.highDemandTimeWindow >= 2, "fast mode keeps a segment's time for HTTP");
});

test("no public STUN on LAN and loopback hosts", () => {
  for (const h of ["localhost", "127.0.0.1", "10.213.0.1", "192.168.1.20", "172.20.0.5", "[::1]", "stage.local"]) {
    assert.deepEqual(rtcConfigFor(h), { iceServers: [] }, h);
  }
  for (const h of ["canopy.example.org", "172.32.0.1", "8.8.8.8"]) assert.equal(rtcConfigFor(h), undefined, h);
});
