import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AnnouncementBoard,
  ChatAPI,
  ChatError,
  ChatSession,
  CommentLog,
  LiveFeed,
  announcementDeadline,
  errorMessage,
  parseComment,
  parseCounts,
  parseEvent,
  parseReactions,
  reactionLabel,
  retryAfterSeconds,
  validateAnnouncement,
  validateDraft,
} from "../src/chat.js";

const id = (n) => n.toString(16).padStart(32, "0");
const comment = (n, at, extra = {}) => ({ id: id(n), stream: "demo", author: `a${n}`, text: `t${n}`, at, cursor: `c${n}`, ...extra });
const ids = (entries) => entries.map((e) => e.id);

/** Timers run by hand: run() fires the earliest-queued one. */
function fakeTimers() {
  let seq = 0;
  const pending = [];
  return {
    pending,
    set(fn, ms) {
      pending.push({ id: ++seq, fn, ms });
      return seq;
    },
    clear(handle) {
      const i = pending.findIndex((t) => t.id === handle);
      if (i >= 0) pending.splice(i, 1);
    },
    run() {
      const t = pending.shift();
      assert.ok(t, "no timer pending");
      t.fn();
      return t.ms;
    },
  };
}

class FakeEventSource {
  static CLOSED = 2;
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.listeners = new Map();
    this.onopen = null;
    this.onerror = null;
    this.closed = false;
  }
  addEventListener(type, fn) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  fail(readyState) {
    this.readyState = readyState;
    this.onerror?.({});
  }
  emit(type, data) {
    for (const fn of this.listeners.get(type) ?? []) fn({ data: typeof data === "string" ? data : JSON.stringify(data) });
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
}

/** A view that keeps what it was last told. */
function fakeView() {
  return {
    comments: [],
    kinds: [],
    counts: {},
    viewers: null,
    announcements: [],
    connected: null,
    status: "",
    showComments(e) {
      this.comments = e;
    },
    showReactions(k, c) {
      this.kinds = k;
      this.counts = { ...c };
    },
    showViewers(n) {
      this.viewers = n;
    },
    showAnnouncements(a) {
      this.announcements = a;
    },
    showConnected(on) {
      this.connected = on;
    },
    showStatus(t) {
      this.status = t;
    },
  };
}

function jsonResponse(status, body, headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (name) => headers[name] ?? null },
    text: async () => text,
  };
}

test("events: malformed payloads are dropped, never thrown", () => {
  const bad = [
    ["comment", "{not json"],
    ["comment", "null"],
    ["comment", "[1,2]"],
    ["comment", JSON.stringify({ id: "x", author: "a", text: "t" })], // no at
    ["comment", JSON.stringify({ id: "x", author: "a", text: "", at: 1 })],
    ["comment", JSON.stringify({ id: 5, author: "a", text: "t", at: 1 })],
    ["comment", JSON.stringify({ id: "x", author: "a", text: "t", at: "1" })],
    ["comment", JSON.stringify({ id: "x", author: "a", text: "t".repeat(5000), at: 1 })],
    ["delete", JSON.stringify({ id: 3 })],
    ["ban", JSON.stringify({})],
    ["reactions", JSON.stringify({ counts: [1, 2] })],
    ["announcement", JSON.stringify({ id: "a", kind: "news", text: "x", at: 1 })], // no until
    ["announcement", JSON.stringify({ id: "a", kind: "<b>", text: "x", at: 1, until: 2 })],
    ["viewers", JSON.stringify({ count: -1 })],
    ["viewers", JSON.stringify({ count: "7" })],
    ["unknown", JSON.stringify({ id: "x" })],
    ["comment", undefined],
  ];
  for (const [type, data] of bad) assert.equal(parseEvent(type, data), null, `${type} ${data}`);

  assert.deepEqual(parseEvent("comment", JSON.stringify(comment(1, 10))), {
    type: "comment",
    value: { id: id(1), author: "a1", text: "t1", at: 10, cursor: "c1" },
  });
  assert.deepEqual(parseEvent("delete", '{"id":"abc"}'), { type: "delete", value: { id: "abc" } });
  assert.deepEqual(parseEvent("ban", '{"author":"Bob"}'), { type: "ban", value: { author: "Bob" } });
  assert.deepEqual(parseEvent("viewers", '{"count":42.9}'), { type: "viewers", value: 42 });
  assert.deepEqual(parseEvent("reactions", '{"counts":{"like":3,"wow":-2,"__proto__":5,"BAD KIND":1,"clap":"9"}}'), {
    type: "reactions",
    value: { like: 3 },
  });
  const a = parseEvent("announcement", JSON.stringify({ id: "n1", kind: "news", text: "Hi", at: 1000, until: 11_000, remaining_ms: 9000, extra: 1 }));
  assert.deepEqual(a, { type: "announcement", value: { id: "n1", kind: "news", text: "Hi", at: 1000, until: 11_000, remaining_ms: 9000 } });
});

test("a comment of another stream is refused", () => {
  assert.equal(parseComment(comment(1, 1, { stream: "other" }), "demo"), null);
  assert.ok(parseComment(comment(1, 1), "demo"));
  assert.ok(parseComment(comment(1, 1, { stream: undefined }), "demo"), "stream is optional");
});

test("reaction state and labels", () => {
  assert.deepEqual(parseReactions({ kinds: ["like", "like", 3, "zap"], counts: { like: 2, zap: 1 } }), { kinds: ["like", "zap"], counts: { like: 2, zap: 1 } });
  assert.deepEqual(parseReactions({}), { kinds: [], counts: {} });
  assert.equal(parseReactions("x"), null);
  assert.equal(parseCounts(null), null);
  assert.equal(reactionLabel("like"), "👍");
  assert.equal(reactionLabel("clap"), "👏");
  assert.equal(reactionLabel("zap"), "zap");
  assert.equal(reactionLabel("constructor"), "constructor");
});

test("comment log orders by (at, id) and shows each id once", () => {
  const log = new CommentLog();
  assert.equal(log.add([comment(3, 30), comment(1, 10)]), true);
  assert.equal(log.add([comment(2, 20), comment(3, 30), comment(5, 20)]), true);
  assert.equal(log.add([comment(1, 10)]), false, "a duplicate changes nothing");
  assert.deepEqual(ids(log.entries()), [id(1), id(2), id(5), id(3)]);
  // same millisecond: by id
  log.add([comment(0xa, 20), comment(4, 20)]);
  assert.deepEqual(ids(log.entries()), [id(1), id(2), id(4), id(5), id(0xa), id(3)]);
});

test("deleted comments go and never come back", () => {
  const log = new CommentLog();
  log.add([comment(1, 1), comment(2, 2)]);
  assert.equal(log.delete(id(1)), true);
  assert.equal(log.delete(id(1)), false);
  assert.equal(log.delete(id(9)), false, "not shown yet");
  assert.equal(log.add([comment(1, 1), comment(9, 9)]), false, "deleted before it arrived");
  assert.deepEqual(ids(log.entries()), [id(2)]);
});

test("comment log keeps the newest `cap` lines", () => {
  const log = new CommentLog({ cap: 3 });
  log.add([1, 2, 3, 4, 5].map((n) => comment(n, n * 10)));
  assert.deepEqual(ids(log.entries()), [id(3), id(4), id(5)]);
  log.add([comment(9, 5)]); // older than everything shown
  assert.deepEqual(ids(log.entries()), [id(3), id(4), id(5)]);
  log.add([comment(6, 60)]);
  assert.deepEqual(ids(log.entries()), [id(4), id(5), id(6)]);
  // a dropped one can be added again (it is just old)
  log.add([comment(3, 30)]);
  assert.equal(log.entries().length, 3);
});

test("notices follow the latest comment", () => {
  const log = new CommentLog();
  log.add([comment(0xff, 50), comment(1, 10)]);
  const n = log.notice("Bob was banned");
  assert.equal(n.system, true);
  assert.equal(n.at, 50);
  assert.deepEqual(ids(log.entries()), [id(1), id(0xff), n.id]);
  log.add([comment(2, 60)]);
  assert.equal(log.entries().at(-1).id, id(2));
});

test("announcement deadline prefers remaining_ms over the wall clocks", () => {
  const a = { id: "a", kind: "news", text: "x", at: 1_000_000, until: 1_010_000 };
  assert.equal(announcementDeadline({ ...a, remaining_ms: 4000 }, 500), 4500);
  assert.equal(announcementDeadline(a, 500), 10_500, "until - at without remaining_ms");
  assert.equal(announcementDeadline({ ...a, remaining_ms: 0 }, 500), null);
  assert.equal(announcementDeadline({ ...a, remaining_ms: -10 }, 500), null);
  assert.equal(announcementDeadline({ ...a, until: a.at }, 500), null);
  assert.equal(announcementDeadline({ ...a, remaining_ms: 1e12 }, 0), 3_600_000, "at most an hour");
});

test("announcement board: stacked, deduplicated, expired in time", () => {
  const b = new AnnouncementBoard();
  const news = { id: "n", kind: "news", text: "one", at: 0, until: 10_000, remaining_ms: 5000 };
  const disc = { id: "d", kind: "disclaimer", text: "two", at: 0, until: 20_000, remaining_ms: 8000 };
  assert.equal(b.put(news, 100), true);
  assert.equal(b.put(disc, 100), true);
  assert.equal(b.next(), 5100);
  assert.equal(b.put({ ...news, text: "one again", remaining_ms: 3000 }, 2000), true); // reconnect replay
  assert.deepEqual(
    b.active().map((a) => [a.id, a.text]),
    [
      ["n", "one again"],
      ["d", "two"],
    ],
  );
  assert.equal(b.next(), 5000);
  assert.equal(b.expire(4999), false);
  assert.equal(b.expire(5000), true);
  assert.deepEqual(b.active().map((a) => a.id), ["d"]);
  assert.equal(b.put({ ...disc, remaining_ms: 0 }, 6000), true, "an expired replay removes it");
  assert.equal(b.next(), null);
  assert.equal(b.put({ ...disc, remaining_ms: 0 }, 6000), false);
});

test("error messages come from the server's JSON, else from the status", () => {
  assert.equal(errorMessage(400, '{"error":"text is empty"}'), "text is empty");
  assert.equal(errorMessage(403, '{"error":"author banned"}'), "author banned");
  assert.equal(errorMessage(429, '{"error":"slow down"}', 7), "slow down Try again in 7 s.");
  assert.equal(errorMessage(429, "", 0), "Too many requests; wait a moment.");
  assert.equal(errorMessage(413, "<html>too big</html>"), "That is too long.");
  assert.equal(errorMessage(404, '{"error":42}'), "This stream does not exist.");
  assert.equal(errorMessage(502, ""), "The server had a problem (HTTP 502); try again.");
  assert.equal(errorMessage(418, "[]"), "The request failed (HTTP 418).");
  assert.ok(errorMessage(400, JSON.stringify({ error: "x".repeat(1000) })).length < 310);
  assert.equal(retryAfterSeconds("12"), 12);
  assert.equal(retryAfterSeconds(" 3 "), 3);
  for (const h of [null, undefined, "", "soon", "-1", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT"]) assert.equal(retryAfterSeconds(h), 0, String(h));
});

test("drafts are checked in code points, like the server", () => {
  assert.equal(validateDraft("Ann", "hi"), "");
  assert.match(validateDraft("  ", "hi"), /name/);
  assert.match(validateDraft("Ann", " \n "), /message/);
  assert.equal(validateDraft("Ann", "😀".repeat(500)), "", "500 emoji are 500 characters (1000 UTF-16 units)");
  assert.match(validateDraft("Ann", "😀".repeat(501)), /at most 500/);
  assert.match(validateDraft("x".repeat(41), "hi"), /at most 40/);
  assert.equal(validateDraft("é".repeat(40), "hi"), "");
  assert.equal(validateAnnouncement("news", "Hello", 10), "");
  assert.notEqual(validateAnnouncement("alert", "Hello", 10), "");
  assert.notEqual(validateAnnouncement("news", "   ", 10), "");
  assert.notEqual(validateAnnouncement("disclaimer", "x".repeat(281), 10), "");
  for (const d of [0, 3601, 1.5, NaN]) assert.notEqual(validateAnnouncement("news", "x", d), "", String(d));
});

test("API client: URLs, bodies, key, errors", async () => {
  const calls = [];
  let answer = () => jsonResponse(200, { comments: [comment(2, 2, { stream: "a b/c" }), { id: "bad" }, comment(3, 3), comment(1, 1, { stream: "a b/c" })] });
  const api = new ChatAPI({
    stream: "a b/c",
    fetch: async (url, init) => {
      calls.push({ url, init });
      return answer();
    },
  });
  assert.equal(api.eventsURL(), "/api/v1/streams/a%20b%2Fc/events");
  const got = await api.history(100);
  assert.equal(calls[0].url, "/api/v1/streams/a%20b%2Fc/comments?limit=100");
  assert.equal(calls[0].init.method, "GET");
  assert.deepEqual(ids(got), [id(2), id(1)], "malformed items and other streams' comments dropped, order kept");

  await api.since("x&y=1", 500);
  assert.equal(calls[1].url, "/api/v1/streams/a%20b%2Fc/comments?since=x%26y%3D1&limit=500");

  answer = () => jsonResponse(201, comment(7, 70, { stream: "a b/c" }));
  const posted = await api.post("Ann", "hi");
  assert.equal(posted.id, id(7));
  assert.equal(calls[2].init.method, "POST");
  assert.deepEqual(JSON.parse(calls[2].init.body), { author: "Ann", text: "hi" });
  assert.equal(calls[2].init.headers["Content-Type"], "application/json");
  assert.equal(calls[2].init.headers.Authorization, undefined, "no key on viewer calls");

  answer = () => jsonResponse(204, "");
  await api.deleteComment(id(7), "sekret");
  assert.equal(calls[3].url, `/api/v1/streams/a%20b%2Fc/comments/${id(7)}`);
  assert.equal(calls[3].init.method, "DELETE");
  assert.equal(calls[3].init.headers.Authorization, "Bearer sekret");

  answer = () => jsonResponse(201, { id: "an", kind: "news", text: "Hi", at: 5, until: 10005 });
  const a = await api.announce("news", "Hi", 10, "sekret");
  assert.deepEqual(JSON.parse(calls[4].init.body), { kind: "news", text: "Hi", duration_s: 10 });
  assert.equal(a.id, "an");

  answer = () => jsonResponse(429, { error: "rate limited" }, { "Retry-After": "4" });
  await assert.rejects(api.react("like"), (err) => err instanceof ChatError && err.status === 429 && err.retryAfter === 4 && err.message === "rate limited Try again in 4 s.");
  assert.deepEqual(JSON.parse(calls[5].init.body), { kind: "like" });

  answer = () => {
    throw new TypeError("Failed to fetch");
  };
  await assert.rejects(api.ban("Bob", "k"), (err) => err instanceof ChatError && err.status === 0 && /reach the server/.test(err.message));

  answer = () => jsonResponse(200, "not json");
  assert.deepEqual(await api.history(), []);
});

test("live feed: parses events, reports state, reopens a closed source", () => {
  const sources = [];
  const events = [];
  const states = [];
  let reopened = 0;
  const timers = fakeTimers();
  const feed = new LiveFeed({
    url: "/e",
    stream: "demo",
    open: (url) => {
      const s = new FakeEventSource(url);
      sources.push(s);
      return s;
    },
    onEvent: (e) => events.push(e),
    onState: (on) => states.push(on),
    onReopen: () => reopened++,
    timers,
    backoff: [100, 200],
  });
  feed.start();
  const s = sources[0];
  s.open();
  s.emit("comment", comment(1, 1));
  s.emit("comment", "garbage");
  s.emit("comment", comment(2, 2, { stream: "other" }));
  s.emit("viewers", { count: 3 });
  assert.deepEqual(
    events.map((e) => e.type),
    ["comment", "viewers"],
  );
  assert.deepEqual(states, [true]);

  // The browser reconnects by itself: nothing to do.
  s.fail(0);
  assert.deepEqual(states, [true, false]);
  assert.equal(timers.pending.length, 0);
  s.open();
  assert.equal(reopened, 0);

  // The browser gave up (HTTP error): a new source after the backoff.
  s.fail(FakeEventSource.CLOSED);
  assert.equal(s.closed, true);
  assert.equal(timers.run(), 100);
  assert.equal(sources.length, 2);
  sources[1].fail(FakeEventSource.CLOSED);
  assert.equal(timers.run(), 200);
  sources[2].fail(FakeEventSource.CLOSED);
  assert.equal(timers.run(), 200, "backoff stays at its last step");
  s.emit("viewers", { count: 99 }); // the old source is dead
  assert.equal(events.length, 2);
  sources[3].open();
  assert.equal(reopened, 1);
  assert.equal(feed.connected, true);

  feed.close();
  assert.equal(sources[3].closed, true);
  assert.equal(feed.connected, false);
});

/** A session on fakes; `api` methods can be replaced per test. */
function session(apiOverrides = {}) {
  const view = fakeView();
  const timers = fakeTimers();
  let now = 1000;
  const calls = [];
  const api = {
    stream: "demo",
    eventsURL: () => "/e",
    history: async () => [],
    since: async (cursor) => {
      calls.push(["since", cursor]);
      return [];
    },
    post: async (author, text) => ({ id: id(100), author, text, at: 100, cursor: "c100" }),
    reactions: async () => ({ kinds: ["like", "zap"], counts: { like: 1 } }),
    react: async () => {},
    deleteComment: async (cid, key) => calls.push(["delete", cid, key]),
    ban: async (author, key) => calls.push(["ban", author, key]),
    announce: async () => null,
    ...apiOverrides,
  };
  let handlers;
  const feed = {
    started: false,
    start() {
      this.started = true;
    },
    close() {},
  };
  const s = new ChatSession({
    api,
    view,
    timers,
    now: () => now,
    retryMs: [50],
    feed: (h) => {
      handlers = h;
      return feed;
    },
  });
  return {
    s,
    view,
    timers,
    calls,
    feed,
    emit: (type, data) => {
      const e = parseEvent(type, JSON.stringify(data), "demo");
      assert.ok(e, `bad test event ${type}`);
      handlers.onEvent(e);
    },
    handlers: () => handlers,
    setNow: (t) => (now = t),
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test("session: history and live merge; own comment shown once", async () => {
  const t = session({ history: async () => [comment(1, 10), comment(2, 20)] });
  t.s.start();
  assert.equal(t.feed.started, true, "the live feed opens before the history loads");
  t.emit("comment", comment(2, 20)); // live overlaps history
  t.emit("comment", comment(3, 30));
  await flush();
  assert.deepEqual(ids(t.view.comments), [id(1), id(2), id(3)]);
  assert.deepEqual(t.view.kinds, ["like", "zap"]);

  assert.equal(await t.s.send(" Ann ", " hello "), "");
  t.emit("comment", { id: id(100), author: "Ann", text: "hello", at: 100, cursor: "c100" });
  assert.deepEqual(ids(t.view.comments), [id(1), id(2), id(3), id(100)]);
  assert.equal(t.view.comments.at(-1).text, "hello");

  t.emit("delete", { id: id(2) });
  assert.deepEqual(ids(t.view.comments), [id(1), id(3), id(100)]);
  t.emit("ban", { author: "a3" });
  assert.equal(t.view.comments.at(-1).text, "a3 was banned");
  assert.equal(t.view.comments.at(-1).system, true);

  t.emit("viewers", { count: 42 });
  assert.equal(t.view.viewers, 42);
  t.emit("reactions", { counts: { like: 12, wow: 2 } });
  assert.deepEqual(t.view.counts, { like: 12, wow: 2 });
});

test("session: history retries after a failure", async () => {
  let fail = true;
  const t = session({
    history: async () => {
      if (fail) throw new ChatError("This stream does not exist.", 404);
      return [comment(1, 1)];
    },
  });
  t.s.start();
  await flush();
  assert.match(t.view.status, /Chat unavailable: This stream does not exist/);
  fail = false;
  assert.equal(t.timers.run(), 50);
  await flush();
  assert.equal(t.view.status, "");
  assert.deepEqual(ids(t.view.comments), [id(1)]);
});

test("session: send errors are returned for the form", async () => {
  const t = session({
    post: async () => {
      throw new ChatError("author banned", 403);
    },
  });
  t.s.start();
  assert.equal(await t.s.send("Ann", "hi"), "author banned");
  assert.match(await t.s.send("Ann", "   "), /message/);
  assert.deepEqual(t.view.comments, []);
});

test("session: reactions report rate limiting quietly", async () => {
  let status = 0;
  const t = session({
    react: async () => {
      if (status) throw new ChatError("x", status);
    },
  });
  assert.equal(await t.s.react("like"), "ok");
  status = 429;
  assert.equal(await t.s.react("like"), "limited");
  status = 500;
  assert.equal(await t.s.react("like"), "failed");
});

test("session: announcements stack and go when their time is up", () => {
  const t = session();
  t.s.start();
  t.emit("announcement", { id: "n", kind: "news", text: "Breaking", at: 0, until: 10_000, remaining_ms: 3000 });
  t.emit("announcement", { id: "d", kind: "disclaimer", text: "Calm", at: 0, until: 10_000, remaining_ms: 8000 });
  t.emit("announcement", { id: "n", kind: "news", text: "Breaking", at: 0, until: 10_000, remaining_ms: 3000 }); // replay
  assert.deepEqual(t.view.announcements.map((a) => a.id), ["n", "d"]);
  assert.equal(t.timers.pending.length, 1, "one timer, for the earliest deadline");
  t.setNow(4000);
  assert.equal(t.timers.run(), 3000);
  assert.deepEqual(t.view.announcements.map((a) => a.id), ["d"]);
  t.setNow(9000);
  assert.equal(t.timers.run(), 5000);
  assert.deepEqual(t.view.announcements, []);
  assert.equal(t.timers.pending.length, 0);
});

test("session: catch-up after a reopen starts at the last live cursor", async () => {
  const t = session({ history: async () => [comment(1, 1)] });
  t.s.start();
  await flush();
  t.emit("comment", comment(5, 5));
  t.handlers().onReopen();
  await flush();
  assert.deepEqual(t.calls, [["since", "c5"]]);
});

test("session: moderation needs the key and sends it", async () => {
  const t = session({ history: async () => [comment(1, 1)] });
  t.s.start();
  await flush();
  assert.match(await t.s.deleteComment(id(1)), /stream key/);
  assert.deepEqual(t.calls, []);
  t.s.setKey(" k3y ");
  assert.equal(await t.s.deleteComment(id(1)), "");
  assert.deepEqual(t.view.comments, [], "deleted at once");
  assert.equal(await t.s.ban("Bob"), "");
  assert.deepEqual(t.calls, [
    ["delete", id(1), "k3y"],
    ["ban", "Bob", "k3y"],
  ]);
  assert.match(await t.s.announce("news", "", 10), /announcement/);
});

test("session: a history that lands after live comments keeps the live cursor", async () => {
  let resolve;
  const t = session({ history: () => new Promise((r) => (resolve = r)) });
  t.s.start();
  t.emit("comment", comment(5, 5)); // live, while the history is on its way
  resolve([comment(1, 1), comment(2, 2)]);
  await flush();
  assert.deepEqual(ids(t.view.comments), [id(1), id(2), id(5)]);
  t.handlers().onReopen();
  await flush();
  assert.deepEqual(t.calls, [["since", "c5"]]);
});
