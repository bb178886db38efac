// The live conversation of a stream without the DOM: the chat API client,
// the live event feed (Server-Sent Events) and the state behind the chat
// panel, the reactions bar and the announcement overlay. chatui.js renders
// it through the ChatView interface below.
//
// Everything that comes from the network is parsed defensively: a
// malformed event or response body is dropped, never thrown.
//
// Endpoints, all under /api/v1/streams/{stream}:
//   GET  comments?limit=N | comments?since=<cursor>&limit=N   {comments: [Comment]}
//   POST comments {author, text} -> 201 Comment
//   GET  reactions -> {kinds, counts};  POST reactions {kind} -> 202
//   GET  events: SSE with comment, delete, ban, reactions, announcement, viewers
//   with the stream key (Authorization: Bearer): DELETE comments/{id},
//   POST bans {author}, POST announcements {kind, text, duration_s}

/**
 * @typedef {{id: string, author: string, text: string, at: number, cursor?: string}} Comment
 * @typedef {{id: string, author: string, text: string, at: number, system?: boolean}} Entry
 *   a line of the chat panel: a comment, or a system notice (system: true)
 * @typedef {{id: string, kind: string, text: string, at: number, until: number, remaining_ms?: number}} Announcement
 * @typedef {{kinds: string[], counts: Record<string, number>}} Reactions
 * @typedef {{type: "comment", value: Comment} | {type: "delete", value: {id: string}}
 *   | {type: "ban", value: {author: string}} | {type: "reactions", value: Record<string, number>}
 *   | {type: "announcement", value: Announcement} | {type: "viewers", value: number}} ChatEvent
 * @typedef {{set: (fn: () => void, ms: number) => any, clear: (handle: any) => void}} Timers
 */

/** Comments loaded on join. */
export const HISTORY_LIMIT = 100;
/** Page size of a catch-up after the live feed was closed (the server's maximum). */
export const CATCH_UP_LIMIT = 500;
/** Lines kept in the panel; the oldest go first. */
export const MAX_SHOWN = 500;
/** The server's limits, in characters (Unicode code points). */
export const MAX_AUTHOR_CHARS = 40;
export const MAX_TEXT_CHARS = 500;
export const MAX_ANNOUNCEMENT_CHARS = 280;
/** Announcement durations the server accepts, in seconds. */
export const MIN_ANNOUNCEMENT_S = 1;
export const MAX_ANNOUNCEMENT_S = 3600;
/** Reaction kinds shown until the server lists its own. */
export const DEFAULT_KINDS = ["like", "love", "laugh", "wow", "clap"];
/** Live event names of GET .../events. */
export const EVENT_TYPES = ["comment", "delete", "ban", "reactions", "announcement", "viewers"];

const EMOJI = new Map([
  ["like", "👍"],
  ["love", "❤️"],
  ["laugh", "😂"],
  ["wow", "😮"],
  ["clap", "👏"],
]);

/** The button face of a reaction kind: its emoji, or the kind's name. */
export function reactionLabel(kind) {
  return EMOJI.get(kind) ?? kind;
}

/** @type {Timers} */
const browserTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle),
};

// ---- parsing ----------------------------------------------------------

// Bounds on what is displayed, in UTF-16 units; generous next to the
// server's rules (which count code points), they only stop garbage.
const MAX_ID = 128;
const MAX_AUTHOR_UNITS = 4 * MAX_AUTHOR_CHARS;
const MAX_TEXT_UNITS = 4 * MAX_TEXT_CHARS;
/** Reaction and announcement kinds: short names, safe as object keys. */
const KIND = /^[a-z][a-z0-9_-]{0,31}$/;
/** The longest an announcement stays up (the server's maximum). */
export const MAX_ANNOUNCEMENT_MS = MAX_ANNOUNCEMENT_S * 1000;

const isObject = (x) => typeof x === "object" && x !== null && !Array.isArray(x);
const isText = (x, max) => typeof x === "string" && x.length > 0 && x.length <= max;
const isNumber = (x) => typeof x === "number" && Number.isFinite(x);

/** Characters as the server counts them (code points). */
export const charCount = (s) => [...s].length;

/**
 * @param {unknown} x
 * @param {string} [stream] when set, a comment of another stream is refused
 * @returns {Comment|null}
 */
export function parseComment(x, stream) {
  if (!isObject(x) || !isText(x.id, MAX_ID) || !isNumber(x.at)) return null;
  if (!isText(x.author, MAX_AUTHOR_UNITS) || !isText(x.text, MAX_TEXT_UNITS)) return null;
  if (stream !== undefined && typeof x.stream === "string" && x.stream !== stream) return null;
  /** @type {Comment} */
  const c = { id: x.id, author: x.author, text: x.text, at: x.at };
  if (isText(x.cursor, 1024)) c.cursor = x.cursor;
  return c;
}

/** @returns {Record<string, number>|null} kind -> count, bad entries left out */
export function parseCounts(x) {
  if (!isObject(x)) return null;
  /** @type {Record<string, number>} */
  const counts = {};
  for (const [kind, n] of Object.entries(x)) {
    if (KIND.test(kind) && isNumber(n) && n >= 0) counts[kind] = Math.floor(n);
  }
  return counts;
}

/** The answer of GET .../reactions. @returns {Reactions|null} */
export function parseReactions(x) {
  if (!isObject(x)) return null;
  const kinds = Array.isArray(x.kinds) ? [...new Set(x.kinds.filter((k) => typeof k === "string" && KIND.test(k)))] : [];
  return { kinds, counts: parseCounts(x.counts) ?? {} };
}

/** @returns {Announcement|null} */
export function parseAnnouncement(x) {
  if (!isObject(x) || !isText(x.id, MAX_ID) || typeof x.kind !== "string" || !KIND.test(x.kind)) return null;
  if (!isText(x.text, MAX_TEXT_UNITS) || !isNumber(x.at) || !isNumber(x.until)) return null;
  /** @type {Announcement} */
  const a = { id: x.id, kind: x.kind, text: x.text, at: x.at, until: x.until };
  if (isNumber(x.remaining_ms)) a.remaining_ms = x.remaining_ms;
  return a;
}

/**
 * Parses a live event; null for an unknown type or a malformed payload.
 * @param {string} type the SSE event name
 * @param {unknown} data the event's data (JSON text)
 * @param {string} [stream] see parseComment
 * @returns {ChatEvent|null}
 */
export function parseEvent(type, data, stream) {
  if (typeof data !== "string") return null;
  let x;
  try {
    x = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(x)) return null;
  switch (type) {
    case "comment": {
      const value = parseComment(x, stream);
      return value && { type, value };
    }
    case "delete":
      return isText(x.id, MAX_ID) ? { type, value: { id: x.id } } : null;
    case "ban":
      return isText(x.author, MAX_AUTHOR_UNITS) ? { type, value: { author: x.author } } : null;
    case "reactions": {
      const value = parseCounts(x.counts);
      return value && { type, value };
    }
    case "announcement": {
      const value = parseAnnouncement(x);
      return value && { type, value };
    }
    case "viewers":
      return isNumber(x.count) && x.count >= 0 ? { type, value: Math.floor(x.count) } : null;
  }
  return null;
}

// ---- comments ---------------------------------------------------------

/** Panel order: by time, then by id. @param {Entry} a @param {Entry} b */
export function compareEntries(a, b) {
  if (a.at !== b.at) return a.at - b.at;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The lines of the chat panel: comments and notices in order, each id
 * once, deleted comments never (even when they arrive after the delete),
 * at most `cap` (the oldest dropped).
 */
export class CommentLog {
  constructor({ cap = MAX_SHOWN, rememberDeleted = 10_000 } = {}) {
    this.cap = cap;
    this.rememberDeleted = rememberDeleted;
    /** @type {Entry[]} sorted by compareEntries */
    this.list = [];
    /** ids in the list */
    this.ids = new Set();
    /** ids deleted by the broadcaster, oldest first */
    this.deleted = new Set();
    this.notices = 0;
  }

  /**
   * Adds entries; those already shown or deleted are skipped.
   * @param {Entry[]} entries
   * @returns {boolean} whether the list changed
   */
  add(entries) {
    let changed = false;
    for (const e of entries) {
      if (this.ids.has(e.id) || this.deleted.has(e.id)) continue;
      const last = this.list[this.list.length - 1];
      if (!last || compareEntries(last, e) < 0) this.list.push(e);
      else this.list.splice(this.insertionPoint(e), 0, e);
      this.ids.add(e.id);
      changed = true;
    }
    if (this.list.length > this.cap) {
      for (const e of this.list.splice(0, this.list.length - this.cap)) this.ids.delete(e.id);
    }
    return changed;
  }

  /** @param {Entry} e */
  insertionPoint(e) {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareEntries(this.list[mid], e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Removes a comment and keeps it out for good.
   * @returns {boolean} whether it was shown
   */
  delete(id) {
    this.deleted.add(id);
    if (this.deleted.size > this.rememberDeleted) this.deleted.delete(this.deleted.values().next().value);
    if (!this.ids.has(id)) return false;
    this.ids.delete(id);
    this.list = this.list.filter((e) => e.id !== id);
    return true;
  }

  /**
   * Adds a system line after the latest entry.
   * @returns {Entry}
   */
  notice(text, at = this.list[this.list.length - 1]?.at ?? Date.now()) {
    // "~" sorts after the hex ids of comments of the same millisecond.
    const e = { id: `~notice-${++this.notices}`, author: "", text, at, system: true };
    this.add([e]);
    return e;
  }

  /** @returns {Entry[]} in panel order */
  entries() {
    return this.list.slice();
  }
}

// ---- announcements ----------------------------------------------------

/**
 * When an announcement received at `receivedAt` (on the caller's clock)
 * should go: the server's remaining_ms when given, else until - at, so the
 * browser's wall clock does not matter. Null when it is over already.
 * @param {Announcement} a
 * @param {number} receivedAt
 */
export function announcementDeadline(a, receivedAt) {
  const left = Math.min(a.remaining_ms ?? a.until - a.at, MAX_ANNOUNCEMENT_MS);
  return Number.isFinite(left) && left > 0 ? receivedAt + left : null;
}

/** The announcements on screen, each id once, and when each goes. */
export class AnnouncementBoard {
  constructor() {
    /** @type {Map<string, {a: Announcement, deadline: number}>} in arrival order */
    this.items = new Map();
  }

  /**
   * Shows a or updates it (same id: new text and deadline, same place).
   * @returns {boolean} whether the board changed
   */
  put(a, now) {
    const deadline = announcementDeadline(a, now);
    if (deadline === null) return this.items.delete(a.id);
    this.items.set(a.id, { a, deadline });
    return true;
  }

  /** Removes the announcements whose time is up. @returns {boolean} whether any went */
  expire(now) {
    let changed = false;
    for (const [id, { deadline }] of this.items) {
      if (deadline <= now) changed = this.items.delete(id) || changed;
    }
    return changed;
  }

  /** @returns {number|null} the earliest deadline */
  next() {
    let next = null;
    for (const { deadline } of this.items.values()) if (next === null || deadline < next) next = deadline;
    return next;
  }

  /** @returns {Announcement[]} in arrival order */
  active() {
    return [...this.items.values()].map((i) => i.a);
  }
}

// ---- errors and input -------------------------------------------------

/** A failed API call; message is for the user. */
export class ChatError extends Error {
  /** @param {string} message @param {number} status 0: no answer @param {number} retryAfter seconds */
  constructor(message, status = 0, retryAfter = 0) {
    super(message);
    this.name = "ChatError";
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** Seconds of a Retry-After header (delta-seconds form); 0 when absent or unreadable. */
export function retryAfterSeconds(header) {
  if (typeof header !== "string" || !/^\s*\d{1,6}\s*$/.test(header)) return 0;
  return Number(header);
}

const FALLBACK_MESSAGES = new Map([
  [400, "The server did not accept that."],
  [401, "The stream key was refused."],
  [403, "You are not allowed to do that here."],
  [404, "This stream does not exist."],
  [413, "That is too long."],
  [429, "Too many requests; wait a moment."],
]);

/**
 * The message to show for a failed request: the server's {"error": ...}
 * when there is one, else a plain one for the status. A 429 says when to
 * try again.
 * @param {number} status
 * @param {string} body the response body
 * @param {number} [retryAfter] seconds
 */
export function errorMessage(status, body, retryAfter = 0) {
  let message = "";
  try {
    const j = JSON.parse(body);
    if (isObject(j) && typeof j.error === "string") message = j.error.trim();
  } catch {
    // not JSON (a proxy's page): use the plain message
  }
  if (message.length > 300) message = `${message.slice(0, 300)}…`;
  if (!message) {
    message = FALLBACK_MESSAGES.get(status) ?? (status >= 500 ? `The server had a problem (HTTP ${status}); try again.` : `The request failed (HTTP ${status}).`);
  }
  if (status === 429 && retryAfter > 0) message += ` Try again in ${retryAfter} s.`;
  return message;
}

/**
 * Checks a comment before it is sent; the server checks it again.
 * @returns {string} what is wrong, "" when nothing
 */
export function validateDraft(author, text) {
  if (!author.trim()) return "Enter your name first.";
  if (charCount(author) > MAX_AUTHOR_CHARS) return `Your name can have at most ${MAX_AUTHOR_CHARS} characters.`;
  if (!text.trim()) return "Write a message first.";
  if (charCount(text) > MAX_TEXT_CHARS) return `A message can have at most ${MAX_TEXT_CHARS} characters.`;
  return "";
}

/** Checks an announcement before it is sent. @returns {string} "" when fine */
export function validateAnnouncement(kind, text, durationS) {
  if (kind !== "news" && kind !== "disclaimer") return "Pick news or disclaimer.";
  if (!text.trim()) return "Write the announcement first.";
  if (charCount(text) > MAX_ANNOUNCEMENT_CHARS) return `An announcement can have at most ${MAX_ANNOUNCEMENT_CHARS} characters.`;
  if (!Number.isInteger(durationS) || durationS < MIN_ANNOUNCEMENT_S || durationS > MAX_ANNOUNCEMENT_S) {
    return `The duration must be ${MIN_ANNOUNCEMENT_S} to ${MAX_ANNOUNCEMENT_S} seconds.`;
  }
  return "";
}

// ---- API client -------------------------------------------------------

/** @param {unknown} x @param {string} stream @returns {Comment[]} valid comments, in panel order */
function commentList(x, stream) {
  if (!isObject(x) || !Array.isArray(x.comments)) return [];
  const out = [];
  for (const item of x.comments) {
    const c = parseComment(item, stream);
    if (c) out.push(c);
  }
  return out;
}

/** The chat endpoints of one stream; every failure is a ChatError. */
export class ChatAPI {
  /**
   * @param {object} p
   * @param {string} p.stream
   * @param {typeof fetch} [p.fetch]
   * @param {string} [p.base]
   */
  constructor({ stream, fetch: doFetch = (input, init) => fetch(input, init), base = "/api/v1/streams" }) {
    this.stream = stream;
    this.fetch = doFetch;
    this.root = `${base}/${encodeURIComponent(stream)}`;
  }

  /** URL of the live event stream. */
  eventsURL() {
    return `${this.root}/events`;
  }

  /**
   * @param {string} method
   * @param {string} path under the stream's root
   * @param {{body?: unknown, key?: string}} [opts]
   * @returns {Promise<unknown>} the parsed JSON body; null when empty or not JSON
   */
  async request(method, path, { body, key } = {}) {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (key) headers.Authorization = `Bearer ${key}`;
    let res;
    try {
      res = await this.fetch(this.root + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "same-origin",
      });
    } catch {
      throw new ChatError("Cannot reach the server; check the connection and try again.");
    }
    const text = await res.text().catch(() => "");
    if (!res.ok) {
      const retryAfter = retryAfterSeconds(res.headers?.get?.("Retry-After"));
      throw new ChatError(errorMessage(res.status, text, retryAfter), res.status, retryAfter);
    }
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  }

  /** The latest comments, oldest first. @returns {Promise<Comment[]>} */
  async history(limit = HISTORY_LIMIT) {
    return commentList(await this.request("GET", `/comments?limit=${limit}`), this.stream);
  }

  /** The comments after a cursor, oldest first. @returns {Promise<Comment[]>} */
  async since(cursor, limit = CATCH_UP_LIMIT) {
    return commentList(await this.request("GET", `/comments?since=${encodeURIComponent(cursor)}&limit=${limit}`), this.stream);
  }

  /** Posts a comment. @returns {Promise<Comment|null>} the stored comment */
  async post(author, text) {
    return parseComment(await this.request("POST", "/comments", { body: { author, text } }), this.stream);
  }

  /** @returns {Promise<Reactions|null>} */
  async reactions() {
    return parseReactions(await this.request("GET", "/reactions"));
  }

  async react(kind) {
    await this.request("POST", "/reactions", { body: { kind } });
  }

  async deleteComment(id, key) {
    await this.request("DELETE", `/comments/${encodeURIComponent(id)}`, { key });
  }

  async ban(author, key) {
    await this.request("POST", "/bans", { body: { author }, key });
  }

  /** @returns {Promise<Announcement|null>} the announcement, when the answer carries it */
  async announce(kind, text, durationS, key) {
    return parseAnnouncement(await this.request("POST", "/announcements", { body: { kind, text, duration_s: durationS }, key }));
  }
}

// ---- live feed --------------------------------------------------------

const CLOSED = 2; // EventSource.CLOSED

/**
 * The live events of a stream over EventSource. The browser reconnects by
 * itself after a dropped connection (sending Last-Event-ID, so the server
 * replays missed comments). When it gives up instead (an HTTP error such
 * as 404 or 503), the feed opens a new EventSource after a backoff and
 * calls onReopen once it is open, for the caller to catch up.
 */
export class LiveFeed {
  /**
   * @param {object} p
   * @param {string} p.url
   * @param {string} [p.stream] comments of other streams are dropped
   * @param {(e: ChatEvent) => void} p.onEvent
   * @param {(connected: boolean) => void} [p.onState]
   * @param {() => void} [p.onReopen]
   * @param {(url: string) => EventSource} [p.open]
   * @param {Timers} [p.timers]
   * @param {number[]} [p.backoff] ms before the n-th new EventSource
   */
  constructor({ url, stream, onEvent, onState = () => {}, onReopen = () => {}, open = (u) => new EventSource(u), timers = browserTimers, backoff = [1000, 2000, 5000, 10_000, 30_000] }) {
    Object.assign(this, { url, stream, onEvent, onState, onReopen, open, timers, backoff });
    /** @type {EventSource|null} */
    this.source = null;
    this.connected = false;
    this.failures = 0;
    this.reopening = false;
    this.timer = null;
    this.closed = false;
  }

  start() {
    this.closed = false;
    this.connect();
  }

  connect() {
    this.timer = null;
    let source;
    try {
      source = this.open(this.url);
    } catch {
      this.retry();
      return;
    }
    this.source = source;
    source.onopen = () => {
      if (source !== this.source) return;
      this.failures = 0;
      this.setConnected(true);
      if (this.reopening) {
        this.reopening = false;
        this.onReopen();
      }
    };
    source.onerror = () => {
      if (source !== this.source) return;
      this.setConnected(false);
      if (source.readyState === CLOSED) {
        source.close();
        this.source = null;
        this.retry();
      }
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (ev) => {
        if (source !== this.source) return;
        const e = parseEvent(type, /** @type {MessageEvent} */ (ev).data, this.stream);
        if (e) this.onEvent(e);
      });
    }
  }

  retry() {
    if (this.closed) return;
    this.reopening = true;
    const delay = this.backoff[Math.min(this.failures, this.backoff.length - 1)];
    this.failures++;
    this.timer = this.timers.set(() => this.connect(), delay);
  }

  setConnected(on) {
    if (on === this.connected) return;
    this.connected = on;
    this.onState(on);
  }

  close() {
    this.closed = true;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.source?.close();
    this.source = null;
    this.setConnected(false);
  }
}

// ---- session ----------------------------------------------------------

/**
 * What the session renders into (chatui.js in the page, a fake in tests).
 * @typedef {object} ChatView
 * @property {(entries: Entry[]) => void} showComments the whole panel, in order
 * @property {(kinds: string[], counts: Record<string, number>) => void} showReactions
 * @property {(count: number) => void} showViewers
 * @property {(list: Announcement[]) => void} showAnnouncements the active ones, oldest first
 * @property {(connected: boolean) => void} showConnected
 * @property {(text: string) => void} showStatus a line about the chat itself; "" clears it
 */

/**
 * One viewer's conversation with a stream: history, live events, posting,
 * reactions and the broadcaster's moderation.
 */
export class ChatSession {
  /**
   * @param {object} p
   * @param {ChatAPI} p.api
   * @param {ChatView} p.view
   * @param {(handlers: {onEvent: (e: ChatEvent) => void, onState: (on: boolean) => void, onReopen: () => void}) => {start(): void, close(): void}} [p.feed]
   * @param {() => number} [p.now] a monotonic clock in ms, for announcements
   * @param {Timers} [p.timers]
   * @param {number[]} [p.retryMs] delays between attempts to load the history
   */
  constructor({ api, view, feed, now = () => performance.now(), timers = browserTimers, retryMs = [2000, 5000, 10_000, 30_000] }) {
    this.api = api;
    this.view = view;
    this.now = now;
    this.timers = timers;
    this.retryMs = retryMs;
    this.log = new CommentLog();
    this.board = new AnnouncementBoard();
    this.kinds = DEFAULT_KINDS.slice();
    /** @type {Record<string, number>} */
    this.counts = {};
    this.connected = false;
    /** the cursor of the newest comment received, for a catch-up */
    this.cursor = "";
    /** bumped when a live comment moves the cursor */
    this.cursorEpoch = 0;
    this.historyLoaded = false;
    this.expiryTimer = null;
    this.retryTimer = null;
    this.stopped = false;
    this.key = "";
    const handlers = {
      onEvent: (e) => this.handle(e),
      onState: (on) => {
        this.connected = on;
        this.view.showConnected(on);
      },
      onReopen: () => this.catchUp(),
    };
    this.feed = feed ? feed(handlers) : new LiveFeed({ url: api.eventsURL(), stream: api.stream, ...handlers, timers });
  }

  /** Opens the live feed, then loads the history and the reaction kinds. */
  start() {
    this.view.showReactions(this.kinds, this.counts);
    this.view.showConnected(false);
    this.feed.start();
    this.loadHistory(0);
    this.loadReactions();
  }

  stop() {
    this.stopped = true;
    this.feed.close();
    for (const t of [this.expiryTimer, this.retryTimer]) if (t !== null) this.timers.clear(t);
    this.expiryTimer = this.retryTimer = null;
  }

  /** @param {ChatEvent} e */
  handle(e) {
    switch (e.type) {
      case "comment":
        this.takeCursor([e.value], true);
        this.addComments([e.value]);
        break;
      case "delete":
        if (this.log.delete(e.value.id)) this.view.showComments(this.log.entries());
        break;
      case "ban":
        this.log.notice(`${e.value.author} was banned`);
        this.view.showComments(this.log.entries());
        break;
      case "reactions":
        this.counts = e.value;
        this.view.showReactions(this.kinds, this.counts);
        break;
      case "announcement":
        if (this.board.put(e.value, this.now())) this.showAnnouncements();
        break;
      case "viewers":
        this.view.showViewers(e.value);
        break;
    }
  }

  /** @param {Comment[]} comments */
  addComments(comments) {
    if (this.log.add(comments)) this.view.showComments(this.log.entries());
  }

  /**
   * Remembers the cursor of the last comment of a batch. A live comment's
   * cursor always wins; a fetched batch's only when no live comment came
   * while it was fetched.
   * @param {Comment[]} batch in server order
   * @param {boolean} live
   * @param {number} [epoch] cursorEpoch when the fetch began
   */
  takeCursor(batch, live, epoch = this.cursorEpoch) {
    const cursor = batch[batch.length - 1]?.cursor;
    if (!cursor || (!live && epoch !== this.cursorEpoch)) return;
    this.cursor = cursor;
    if (live) this.cursorEpoch++;
  }

  async loadHistory(attempt) {
    const epoch = this.cursorEpoch;
    try {
      const comments = await this.api.history(HISTORY_LIMIT);
      if (this.stopped) return;
      this.historyLoaded = true;
      this.takeCursor(comments, false, epoch);
      this.addComments(comments);
      this.view.showStatus("");
    } catch (err) {
      if (this.stopped) return;
      this.view.showStatus(`Chat unavailable: ${err.message}`);
      const delay = this.retryMs[Math.min(attempt, this.retryMs.length - 1)];
      this.retryTimer = this.timers.set(() => {
        this.retryTimer = null;
        this.loadHistory(attempt + 1);
      }, delay);
    }
  }

  async loadReactions() {
    try {
      const r = await this.api.reactions();
      if (!r || this.stopped) return;
      if (r.kinds.length) this.kinds = r.kinds;
      // Live totals may have come first; keep the larger of each.
      for (const [kind, n] of Object.entries(r.counts)) this.counts[kind] = Math.max(n, this.counts[kind] ?? 0);
      this.view.showReactions(this.kinds, this.counts);
    } catch {
      // the default kinds stay; counts come with the live feed
    }
  }

  /** After the live feed was closed and opened again: fetch what was missed. */
  async catchUp() {
    if (!this.cursor) {
      if (this.historyLoaded) await this.loadHistory(0);
      return;
    }
    try {
      for (let page = 0; page < 4 && !this.stopped; page++) {
        const epoch = this.cursorEpoch;
        const comments = await this.api.since(this.cursor, CATCH_UP_LIMIT);
        this.takeCursor(comments, false, epoch);
        this.addComments(comments);
        if (comments.length < CATCH_UP_LIMIT) break;
      }
    } catch {
      // the live feed goes on; missed comments stay missed
    }
  }

  showAnnouncements() {
    this.board.expire(this.now());
    this.view.showAnnouncements(this.board.active());
    if (this.expiryTimer !== null) this.timers.clear(this.expiryTimer);
    this.expiryTimer = null;
    const next = this.board.next();
    if (next === null || this.stopped) return;
    this.expiryTimer = this.timers.set(() => {
      this.expiryTimer = null;
      this.showAnnouncements();
    }, Math.max(0, next - this.now()));
  }

  /**
   * Posts a comment (trimmed) and shows it at once.
   * @returns {Promise<string>} the error to show; "" when it was posted
   */
  async send(author, text) {
    const problem = validateDraft(author, text);
    if (problem) return problem;
    try {
      const c = await this.api.post(author.trim(), text.trim());
      if (c) this.addComments([c]);
      return "";
    } catch (err) {
      return err instanceof ChatError ? err.message : String(err);
    }
  }

  /**
   * Sends a reaction; the counts come back with the live totals.
   * @returns {Promise<"ok"|"limited"|"failed">}
   */
  async react(kind) {
    try {
      await this.api.react(kind);
      return "ok";
    } catch (err) {
      return err instanceof ChatError && err.status === 429 ? "limited" : "failed";
    }
  }

  /** The broadcaster's stream key for moderation; "" forgets it. */
  setKey(key) {
    this.key = key.trim();
  }

  /** @param {() => Promise<unknown>} action @returns {Promise<string>} the error; "" on success */
  async moderate(action) {
    if (!this.key) return "Enter the stream key first.";
    try {
      await action();
      return "";
    } catch (err) {
      return err instanceof ChatError ? err.message : String(err);
    }
  }

  /** Deletes a comment (and hides it at once). */
  deleteComment(id) {
    return this.moderate(async () => {
      await this.api.deleteComment(id, this.key);
      this.handle({ type: "delete", value: { id } });
    });
  }

  /** Bans an author; the ban event shows the notice. */
  ban(author) {
    return this.moderate(() => this.api.ban(author, this.key));
  }

  /** Posts an announcement; shown at once when the answer carries it. */
  async announce(kind, text, durationS) {
    const problem = validateAnnouncement(kind, text, durationS);
    if (problem) return problem;
    return this.moderate(async () => {
      const a = await this.api.announce(kind, text.trim(), durationS, this.key);
      if (a) this.handle({ type: "announcement", value: a });
    });
  }
}
