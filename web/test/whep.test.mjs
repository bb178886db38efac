// The low-latency mode's WHEP client (whep.js) against a fake
// RTCPeerConnection, fetch and clock, and the getStats digest (rtcstats.js)
// against fake reports.
import assert from "node:assert/strict";
import { test } from "node:test";
import { digestStats } from "../src/rtcstats.js";
import {
  GATHER_TIMEOUT_MS,
  WhepError,
  WhepLink,
  WhepSession,
  backoffMs,
  nextStep,
  resolveLocation,
  responseError,
  userMessage,
  whepEndpoint,
} from "../src/whep.js";

const ENDPOINT = "http://canopy.test:8080/live/demo/whep";

/** whep.js reports failures with console.warn; kept here instead of the test output. */
const warnings = [];
console.warn = (...args) => warnings.push(args.join(" "));

/** A virtual clock: advance(ms) runs the timers due, in order. */
function fakeClock() {
  let now = 0;
  let seq = 0;
  const pending = new Map();
  return {
    set(fn, ms) {
      pending.set(++seq, { fn, at: now + ms, ms });
      return seq;
    },
    clear(handle) {
      pending.delete(handle);
    },
    /** Delays of the timers pending, soonest first. */
    delays() {
      return [...pending.values()].sort((a, b) => a.at - b.at).map((t) => t.at - now);
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
        if (!due.length) break;
        const [id, t] = due[0];
        pending.delete(id);
        now = t.at;
        t.fn();
        await settle();
      }
      now = end;
    },
  };
}

/** Lets pending promise chains (fetch bodies included) run. */
async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A recvonly RTCPeerConnection stand-in. gather: "auto" completes gathering after setLocalDescription, "never" does not. */
class FakePC extends EventTarget {
  constructor(config, { gather = "auto", badAnswer = false } = {}) {
    super();
    this.config = config;
    this.transceivers = [];
    this.iceGatheringState = "new";
    this.connectionState = "new";
    this.localDescription = null;
    this.remoteDescription = null;
    this.closed = false;
    this.gather = gather;
    this.badAnswer = badAnswer;
  }
  addTransceiver(kind, init) {
    const t = { kind, direction: init.direction, receiver: { track: { kind, id: `${kind}-${Math.random()}` } } };
    this.transceivers.push(t);
    return t;
  }
  async createOffer() {
    return { type: "offer", sdp: `offer ${this.transceivers.map((t) => `${t.kind}:${t.direction}`).join(" ")}` };
  }
  async setLocalDescription(d) {
    this.localDescription = { ...d };
    this.iceGatheringState = "gathering";
    if (this.gather === "auto") setImmediate(() => this.finishGathering());
  }
  finishGathering() {
    this.localDescription.sdp += " candidate:host";
    this.iceGatheringState = "complete";
    this.dispatchEvent(new Event("icegatheringstatechange"));
  }
  async setRemoteDescription(d) {
    if (this.badAnswer) throw new Error("SDP parse error");
    this.remoteDescription = d;
  }
  close() {
    // Like the real one: no connectionstatechange event for close().
    this.closed = true;
    this.connectionState = "closed";
  }
  setState(state) {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

/**
 * fetch against a scripted WHEP server: each POST takes the next reply
 * ({status, location?, body?} or "hang"); DELETE answers 200. Requests are
 * recorded.
 */
function fakeServer(replies = []) {
  const requests = [];
  let sessions = 0;
  const fetch = async (url, init = {}) => {
    const req = { url: String(url), method: init.method ?? "GET", headers: init.headers ?? {}, body: init.body, keepalive: !!init.keepalive, signal: init.signal };
    requests.push(req);
    if (req.method === "DELETE") return new Response(null, { status: 200 });
    const reply = replies.length ? replies.shift() : { status: 201 };
    if (reply === "hang") {
      return new Promise((_, reject) => init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
    }
    if (reply.error) throw new TypeError(reply.error);
    const n = ++sessions;
    const headers = new Headers({ "Content-Type": "application/sdp" });
    const location = reply.location === undefined ? `/live/demo/whep/s${n}` : reply.location;
    if (location) headers.set("Location", location);
    const res = new Response(reply.body ?? `answer ${n}`, { status: reply.status, headers });
    // A followed redirect shows as the final URL (Response.url is read-only).
    if (reply.redirectedTo) Object.defineProperty(res, "url", { value: reply.redirectedTo });
    return res;
  };
  return {
    fetch,
    requests,
    posts: () => requests.filter((r) => r.method === "POST"),
    deletes: () => requests.filter((r) => r.method === "DELETE").map((r) => r.url),
  };
}

function newSession(server, { clock = fakeClock(), pcOptions } = {}) {
  const pcs = [];
  const session = new WhepSession({
    endpoint: ENDPOINT,
    fetch: server.fetch,
    newPeerConnection: (config) => {
      const pc = new FakePC(config, pcOptions);
      pcs.push(pc);
      return pc;
    },
    timers: clock,
  });
  return { session, pcs, clock };
}

test("an offer redirected to a relay: the session lives at the relay", async () => {
  const relay = "http://192.0.2.10:8090/live/demo/whep";
  const server = fakeServer([{ status: 201, redirectedTo: relay }]);
  const { session } = newSession(server);
  await session.connect();
  assert.equal(session.server, "http://192.0.2.10:8090");
  assert.equal(session.location, "http://192.0.2.10:8090/live/demo/whep/s1", "Location resolves against the relay, not the page");
  await session.close();
  assert.deepEqual(server.deletes(), ["http://192.0.2.10:8090/live/demo/whep/s1"]);
});

test("an answer from the page's own server", async () => {
  const server = fakeServer([{ status: 201 }]);
  const { session } = newSession(server);
  await session.connect();
  assert.equal(session.server, "http://canopy.test:8080");
  await session.close();
});

test("endpoint and session URLs", () => {
  assert.equal(whepEndpoint("demo", "http://canopy.test:8080/watch/demo?x=1"), ENDPOINT);
  assert.equal(whepEndpoint("a b/c", "https://h/watch/x"), "https://h/live/a%20b%2Fc/whep");
  assert.equal(resolveLocation("/live/demo/whep/abc", ENDPOINT), "http://canopy.test:8080/live/demo/whep/abc");
  assert.equal(resolveLocation("abc", ENDPOINT), "http://canopy.test:8080/live/demo/abc", "relative to the endpoint, not the page");
  assert.equal(resolveLocation("https://edge.test/s/1", ENDPOINT), "https://edge.test/s/1");
  assert.equal(resolveLocation(null, ENDPOINT), null);
  assert.equal(resolveLocation("", ENDPOINT), null);
});

test("refusals map to kinds and fixed texts", () => {
  const notHere = responseError(404, "no low-latency media for stream \"demo\" here\n");
  assert.equal(notHere.kind, "unavailable");
  assert.equal(notHere.status, 404);
  assert.match(notHere.message, /HTTP 404: no low-latency media/);
  assert.equal(userMessage(notHere), "Low latency is not available for this stream here.");
  assert.equal(responseError(503).kind, "busy");
  assert.match(userMessage(responseError(503)), /busy/);
  for (const status of [400, 415, 500]) {
    const err = responseError(status, "<script>x</script>");
    assert.equal(err.kind, "http");
    assert.equal(userMessage(err), `Low latency was refused by the server (HTTP ${status}).`, "the server's text is not shown");
  }
});

test("retry and fall-back decisions", () => {
  const mid = () => 0.5; // no jitter
  const lost = new WhepError("connection", "failed");
  const first = nextStep(lost, 1, { random: mid });
  assert.equal(first.action, "retry");
  assert.equal(first.delayMs, 1000);
  assert.match(first.message, /Reconnecting \(try 2 of 3\)/);
  const second = nextStep(lost, 2, { random: mid });
  assert.equal(second.action, "retry");
  assert.equal(second.delayMs, 2000);
  const third = nextStep(lost, 3, { random: mid });
  assert.equal(third.action, "fallback");
  assert.match(third.message, /3 times/);
  assert.equal(nextStep(new WhepError("network", "x"), 1, { random: mid }).action, "retry");

  const notHere = nextStep(responseError(404), 0);
  assert.deepEqual(notHere, { action: "fallback", message: "Low latency is not available for this stream here. Playing in normal mode." });
  assert.equal(nextStep(responseError(503), 0).action, "fallback");
  assert.equal(nextStep(responseError(500), 0).action, "fallback");
  assert.equal(nextStep(new WhepError("protocol", "x"), 0).action, "fallback");

  assert.deepEqual([1, 2, 3, 4, 5, 9].map((n) => backoffMs(n, mid)), [1000, 2000, 4000, 8000, 8000, 8000]);
  assert.equal(backoffMs(1, () => 0), 750);
  assert.equal(backoffMs(1, () => 0.999999), 1250);
});

test("a session offers recvonly video then audio, posts the gathered SDP, applies the answer, and DELETEs its Location", async () => {
  const server = fakeServer([{ status: 201 }]);
  const { session, pcs } = newSession(server);
  const tracks = await session.connect();
  const [pc] = pcs;
  assert.deepEqual(
    pc.transceivers.map((t) => [t.kind, t.direction]),
    [
      ["video", "recvonly"],
      ["audio", "recvonly"],
    ],
  );
  assert.deepEqual(tracks, pc.transceivers.map((t) => t.receiver.track));
  const [post] = server.posts();
  assert.equal(post.url, ENDPOINT);
  assert.equal(post.headers["Content-Type"], "application/sdp");
  assert.equal(post.body, "offer video:recvonly audio:recvonly candidate:host", "posted after gathering");
  assert.deepEqual(pc.remoteDescription, { type: "answer", sdp: "answer 1" });
  assert.equal(session.location, "http://canopy.test:8080/live/demo/whep/s1");

  await session.close();
  assert.ok(pc.closed);
  assert.deepEqual(server.deletes(), ["http://canopy.test:8080/live/demo/whep/s1"]);
  assert.ok(server.requests.at(-1).keepalive, "DELETE survives page unload");
  await session.close();
  assert.equal(server.deletes().length, 1, "deleted once");
});

test("gathering that does not finish is cut off after the timeout", async () => {
  const server = fakeServer([{ status: 201 }]);
  const { session, clock } = newSession(server, { pcOptions: { gather: "never" } });
  const done = session.connect();
  await settle();
  assert.equal(server.posts().length, 0, "waits for candidates");
  assert.deepEqual(clock.delays(), [GATHER_TIMEOUT_MS]);
  await clock.advance(GATHER_TIMEOUT_MS);
  await done;
  assert.equal(server.posts()[0].body, "offer video:recvonly audio:recvonly", "posts what it has");
});

test("refused sessions reject with the mapped error and leave nothing to delete", async () => {
  for (const [status, kind] of [
    [404, "unavailable"],
    [503, "busy"],
    [500, "http"],
  ]) {
    const server = fakeServer([{ status, location: null, body: "nope" }]);
    const { session, pcs } = newSession(server);
    await assert.rejects(session.connect(), (err) => err instanceof WhepError && err.kind === kind && err.status === status);
    await session.close();
    assert.ok(pcs[0].closed);
    assert.deepEqual(server.deletes(), []);
  }
  const unreachable = fakeServer([{ error: "Failed to fetch" }]);
  await assert.rejects(newSession(unreachable).session.connect(), { kind: "network" });
  const garbled = fakeServer([{ status: 201 }]);
  const { session } = newSession(garbled, { pcOptions: { badAnswer: true } });
  await assert.rejects(session.connect(), { kind: "protocol" });
  await session.close();
  assert.deepEqual(garbled.deletes(), ["http://canopy.test:8080/live/demo/whep/s1"], "a created session is deleted even if unusable");
});

test("a POST that hangs times out as a network failure", async () => {
  const server = fakeServer(["hang"]);
  const { session, clock } = newSession(server);
  const done = session.connect();
  await settle();
  assert.equal(server.posts().length, 1);
  const check = assert.rejects(done, { kind: "network" });
  await clock.advance(10_000);
  await check;
});

test("closing while the POST is out aborts it; an answer that still arrives is deleted", async () => {
  const hung = fakeServer(["hang"]);
  const a = newSession(hung);
  const done = a.session.connect();
  await settle();
  await a.session.close();
  await assert.rejects(done, { kind: "closed" });
  assert.deepEqual(hung.deletes(), []);

  // A server answering although the request was aborted.
  const late = fakeServer([{ status: 201 }]);
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const b = newSession({ ...late, fetch: async (url, init) => (init.method === "POST" ? (await gate, late.fetch(url, { ...init, signal: undefined })) : late.fetch(url, init)) });
  const pending = b.session.connect();
  await settle();
  await b.session.close();
  release();
  await assert.rejects(pending, { kind: "closed" });
  await settle();
  assert.deepEqual(late.deletes(), ["http://canopy.test:8080/live/demo/whep/s1"]);
});

/** A WhepLink on fakes, recording what it tells the page. */
function newLink(replies, options = {}) {
  const server = fakeServer(replies);
  const clock = fakeClock();
  const pcs = [];
  const seen = { media: [], status: [], fallback: [], states: [] };
  const link = new WhepLink({
    endpoint: ENDPOINT,
    fetch: server.fetch,
    newPeerConnection: (config) => {
      const pc = new FakePC(config);
      pcs.push(pc);
      return pc;
    },
    newMediaStream: (tracks) => ({ tracks }),
    onMedia: (stream) => seen.media.push(stream),
    onStatus: (text) => seen.status.push(text),
    onFallback: (message, err) => seen.fallback.push({ message, kind: err.kind }),
    onState: (state) => seen.states.push(state),
    timers: clock,
    random: () => 0.5,
    ...options,
  });
  return { link, server, clock, pcs, seen };
}

test("link: connects, rides out a short disconnection, and deletes its session on stop", async () => {
  const { link, server, clock, pcs, seen } = newLink([{ status: 201 }]);
  link.start();
  await settle();
  assert.equal(seen.media.length, 1);
  assert.equal(seen.media[0].tracks.length, 2);
  assert.equal(link.state, "connecting");
  pcs[0].setState("connected");
  assert.equal(link.state, "connected");
  assert.equal(seen.status.at(-1), "");
  assert.equal(link.pc, pcs[0]);

  pcs[0].setState("disconnected");
  assert.equal(link.state, "disconnected");
  assert.match(seen.status.at(-1), /interrupted/);
  await clock.advance(4000);
  pcs[0].setState("connected");
  await clock.advance(10_000);
  assert.equal(server.posts().length, 1, "no new session within the grace period");
  assert.equal(link.state, "connected");

  await link.stop();
  assert.equal(link.state, "closed");
  assert.ok(pcs[0].closed);
  assert.deepEqual(server.deletes(), ["http://canopy.test:8080/live/demo/whep/s1"]);
  assert.deepEqual(clock.delays(), [], "no timers left");
  pcs[0].setState("failed");
  assert.deepEqual(seen.fallback, [], "events after stop are ignored");
});

test("link: disconnected over 5 s makes a new session with backoff; three failures fall back", async () => {
  const { link, server, clock, pcs, seen } = newLink([]);
  link.start();
  await settle();
  pcs[0].setState("connected");
  pcs[0].setState("disconnected");
  await clock.advance(5000);
  assert.ok(pcs[0].closed);
  assert.deepEqual(server.deletes(), ["http://canopy.test:8080/live/demo/whep/s1"]);
  assert.equal(link.state, "retrying");
  assert.match(seen.status.at(-1), /lost\. Reconnecting \(try 2 of 3\)/);
  assert.deepEqual(clock.delays(), [1000]);
  await clock.advance(1000);
  assert.equal(server.posts().length, 2);
  assert.equal(seen.media.length, 2, "the new session's media is attached");

  pcs[1].setState("failed");
  assert.equal(link.failures, 2);
  assert.deepEqual(clock.delays(), [2000]);
  await clock.advance(2000);
  assert.equal(server.posts().length, 3);
  // The third session never connects.
  await clock.advance(10_000);
  assert.equal(link.state, "failed");
  assert.deepEqual(seen.fallback, [{ message: "Low latency failed 3 times in a row; playing in normal mode.", kind: "connection" }]);
  assert.deepEqual(server.deletes().length, 3, "every session was deleted");
  assert.deepEqual(clock.delays(), []);
  assert.equal(server.posts().length, 3, "no more tries");
});

test("link: a connection that stays up clears the failure count", async () => {
  const { link, clock, pcs } = newLink([], { stableMs: 30_000 });
  link.start();
  await settle();
  pcs[0].setState("failed");
  await clock.advance(1000);
  pcs[1].setState("connected");
  assert.equal(link.failures, 1);
  await clock.advance(30_000);
  assert.equal(link.failures, 0);
  await link.stop();
});

test("link: 404 and 503 fall back at once with their message", async () => {
  for (const [status, text] of [
    [404, "Low latency is not available for this stream here. Playing in normal mode."],
    [503, "Low latency is busy on this server right now. Playing in normal mode."],
  ]) {
    const { link, server, clock, seen } = newLink([{ status, location: null, body: `refused ${status}` }]);
    link.start();
    await settle();
    assert.match(warnings.at(-1), new RegExp(`HTTP ${status}: refused ${status}`), "the server's text goes to the console");
    assert.deepEqual(seen.fallback, [{ message: text, kind: status === 404 ? "unavailable" : "busy" }]);
    assert.equal(link.state, "failed");
    assert.deepEqual(clock.delays(), [], "no retry");
    assert.equal(server.posts().length, 1);
    assert.equal(seen.media.length, 0);
  }
});

test("link: an unreachable server is retried like a lost connection", async () => {
  const { link, server, clock, pcs, seen } = newLink([{ error: "Failed to fetch" }, { status: 201 }]);
  link.start();
  await settle();
  assert.equal(link.state, "retrying");
  assert.match(seen.status.at(-1), /Cannot reach the server/);
  await clock.advance(1000);
  pcs[1].setState("connected");
  assert.equal(link.state, "connected");
  assert.equal(server.posts().length, 2);
  await link.stop();
});

test("link: stop during the POST ends quietly, and a restart is not disturbed by it", async () => {
  const { link, server, pcs, seen } = newLink(["hang", "hang"]);
  link.start();
  await settle();
  await link.stop();
  await settle();
  assert.equal(link.state, "closed");
  assert.deepEqual(seen.fallback, []);
  assert.deepEqual(seen.media, []);
  assert.deepEqual(server.deletes(), []);

  link.start();
  const second = link.session;
  link.stop(); // aborts the second POST...
  link.start(); // ...while a third session starts
  await settle();
  assert.ok(second.closed);
  assert.equal(link.state, "connecting");
  assert.equal(pcs.at(-1).closed, false, "the old session's failure does not end the new one");
  assert.equal(link.pc, pcs.at(-1));
  await link.stop();
});

/** A Chromium-like report: transport -> selected pair, video and audio inbound-rtp. */
function chromeReport({ delay = 1.2, emitted = 40, rtt = 0.03 } = {}) {
  return new Map(
    [
      { id: "T01", type: "transport", selectedCandidatePairId: "CP1" },
      { id: "CP0", type: "candidate-pair", state: "failed", currentRoundTripTime: 9 },
      { id: "CP2", type: "candidate-pair", state: "succeeded", nominated: true, currentRoundTripTime: 0.5 },
      { id: "CP1", type: "candidate-pair", state: "succeeded", nominated: true, currentRoundTripTime: rtt },
      {
        id: "IV",
        type: "inbound-rtp",
        kind: "video",
        framesDecoded: 120,
        freezeCount: 2,
        packetsLost: 5,
        nackCount: 7,
        frameWidth: 1280,
        frameHeight: 720,
        framesPerSecond: 30,
        bytesReceived: 900_000,
        headerBytesReceived: 10_000,
        jitterBufferDelay: delay,
        jitterBufferEmittedCount: emitted,
      },
      { id: "IA", type: "inbound-rtp", kind: "audio", packetsLost: 1, nackCount: 0, bytesReceived: 50_000, jitterBufferDelay: 99, jitterBufferEmittedCount: 1 },
      { id: "OT", type: "outbound-rtp", kind: "video", packetsLost: 1000 },
    ].map((s) => [s.id, s]),
  );
}

test("getStats digest: playout delay, counters and size", () => {
  const d = digestStats(chromeReport());
  assert.equal(d.framesDecoded, 120);
  assert.equal(d.freezeCount, 2);
  assert.equal(d.packetsLost, 6, "video and audio");
  assert.equal(d.nackCount, 7);
  assert.equal(d.jitterBufferMs, 30, "1.2 s over 40 frames");
  assert.equal(d.rttMs, 30, "the transport's selected pair, not another");
  assert.equal(d.playoutDelayMs, 45, "jitter buffer + half the RTT");
  assert.equal(d.width, 1280);
  assert.equal(d.height, 720);
  assert.equal(d.bytesReceived, 960_000);

  // Over the last interval, not since the start: 40 more frames held 3.2 s.
  const next = digestStats(chromeReport({ delay: 4.4, emitted: 80 }), d);
  assert.equal(next.jitterBufferMs, 80);
  assert.equal(next.playoutDelayMs, 95);
});

test("getStats digest: Firefox-style pairs, missing fields and an empty report", () => {
  const firefox = new Map([
    ["p", { id: "p", type: "candidate-pair", selected: true, currentRoundTripTime: 0.1 }],
    ["v", { id: "v", type: "inbound-rtp", mediaType: "video", framesDecoded: 10, packetsLost: -1, frameWidth: 640, frameHeight: 360 }],
  ]);
  const d = digestStats(firefox);
  assert.equal(d.rttMs, 100);
  assert.equal(d.freezeCount, 0, "not counted there: 0");
  assert.equal(d.packetsLost, 0, "negative loss (duplicates) is not loss");
  assert.equal(d.jitterBufferMs, 0);
  assert.equal(d.playoutDelayMs, 50);
  assert.equal(d.width, 640);

  const empty = digestStats(new Map());
  for (const [k, v] of Object.entries(empty)) if (k !== "totals") assert.equal(v, 0, k);
});
