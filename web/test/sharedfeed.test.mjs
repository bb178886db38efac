import assert from "node:assert/strict";
import { test } from "node:test";
import { SharedFeed } from "../src/sharedfeed.js";

/** Web Locks for one name at a time: a FIFO of waiters, abortable. */
function fakeLocks() {
  const queues = new Map();
  const grant = (name) => {
    const q = queues.get(name);
    if (!q || q.held || q.waiting.length === 0) return;
    const w = q.waiting.shift();
    q.held = true;
    Promise.resolve(w.fn()).then(() => {
      q.held = false;
      w.resolve();
      grant(name);
    });
  };
  return {
    request(name, { signal }, fn) {
      if (!queues.has(name)) queues.set(name, { held: false, waiting: [] });
      const q = queues.get(name);
      return new Promise((resolve, reject) => {
        const w = { fn, resolve };
        q.waiting.push(w);
        signal.addEventListener("abort", () => {
          const i = q.waiting.indexOf(w);
          if (i >= 0) {
            q.waiting.splice(i, 1);
            reject(new Error("aborted"));
          }
        });
        grant(name);
      });
    },
  };
}

/** A BroadcastChannel bus: a message reaches every other open endpoint, later. */
function fakeBus() {
  const open = new Set();
  return (name) => {
    const ch = {
      onmessage: null,
      postMessage(m) {
        const copy = structuredClone(m);
        for (const other of open) {
          if (other !== ch) setTimeout(() => other.onmessage?.({ data: copy }), 0);
        }
      },
      close() {
        open.delete(ch);
      },
    };
    open.add(ch);
    return ch;
  };
}

/** Feeds made by tabs, each recording start/close and letting the test emit. */
function feedMaker(made) {
  return (h) => {
    const f = {
      h, started: false, closed: false, reopening: false, connected: false,
      start() {
        this.started = true;
        this.connected = true;
        h.onState(true);
        if (this.reopening) h.onReopen();
      },
      close() {
        this.closed = true;
      },
    };
    made.push(f);
    return f;
  };
}

function tab(locks, bus, made) {
  const got = { events: [], states: [], reopens: 0 };
  const feed = new SharedFeed({
    url: "/api/v1/streams/demo/events", stream: "demo", locks, channel: bus, makeFeed: feedMaker(made),
    onEvent: (e) => got.events.push(e), onState: (on) => got.states.push(on), onReopen: () => got.reopens++,
  });
  return { feed, got };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

test("shared feed: one EventSource for all tabs; the next tab takes over and catches up", async () => {
  const locks = fakeLocks();
  const bus = fakeBus();
  const made = [];
  const a = tab(locks, bus, made);
  const b = tab(locks, bus, made);
  a.feed.start();
  await settle();
  b.feed.start();
  await settle();
  assert.equal(made.length, 1, "only the leader opens a feed");
  assert.ok(a.feed.isLeader && !b.feed.isLeader);
  assert.deepEqual(b.got.states.at(-1), true, "a follower learns the feed is connected");

  const comment = { type: "comment", value: { id: "1".repeat(32), author: "Ann", text: "hi", at: 1 } };
  made[0].h.onEvent(comment);
  await settle();
  assert.deepEqual(a.got.events, [comment]);
  assert.deepEqual(b.got.events, [comment], "the follower gets the leader's events");

  a.feed.close();
  await settle();
  assert.ok(made[0].closed, "the leader's feed closes with its tab");
  assert.equal(made.length, 2, "the follower opened the feed");
  assert.ok(b.feed.isLeader);
  assert.equal(b.got.reopens, 1, "the new leader catches up on the gap");
  b.feed.close();
});

test("shared feed: a tab that joins gets the current counts and showing announcements", async () => {
  const locks = fakeLocks();
  const bus = fakeBus();
  const made = [];
  const a = tab(locks, bus, made);
  a.feed.start();
  await settle();
  let clock = 1000;
  a.feed.now = () => clock;
  const reactions = { type: "reactions", value: { like: 3 } };
  const live = { type: "announcement", value: { id: "x", kind: "news", text: "hi", at: 0, until: 10_000, remaining_ms: 5000 } };
  const over = { type: "announcement", value: { id: "y", kind: "news", text: "old", at: 0, until: 1000, remaining_ms: 1000 } };
  for (const e of [reactions, live, over]) made[0].h.onEvent(e);
  clock += 2000; // "over" has ended, "live" has 3 s left

  const b = tab(locks, bus, made);
  b.feed.start();
  await settle();
  const types = b.got.events.map((e) => e.type + ":" + (e.value.id ?? ""));
  assert.deepEqual(types.sort(), ["announcement:x", "reactions:"]);
  const ann = b.got.events.find((e) => e.type === "announcement");
  assert.equal(ann.value.remaining_ms, 3000, "replayed with the time left, not the original");
  a.feed.close();
  b.feed.close();
});

test("shared feed: without Web Locks each tab has its own feed", async () => {
  const made = [];
  const a = tab(null, fakeBus(), made);
  const b = tab(null, fakeBus(), made);
  a.feed.start();
  b.feed.start();
  assert.equal(made.length, 2);
  assert.ok(made.every((f) => f.started));
  a.feed.close();
  b.feed.close();
  assert.ok(made.every((f) => f.closed));
});
