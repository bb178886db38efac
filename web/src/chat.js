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

import {
  AnnouncementBoard,
  CATCH_UP_LIMIT,
  ChatError,
  CommentLog,
  DEFAULT_KINDS,
  EVENT_TYPES,
  HISTORY_LIMIT,
  browserTimers,
  errorMessage,
  isObject,
  parseAnnouncement,
  parseComment,
  parseEvent,
  parseReactions,
  retryAfterSeconds,
  validateAnnouncement,
  validateDraft,
} from "./chatmodel.js";

// The model is part of this module's interface (chatui.js and the tests use it).
export * from "./chatmodel.js";

/**
 * @typedef {import("./chatmodel.js").Comment} Comment
 * @typedef {import("./chatmodel.js").Entry} Entry
 * @typedef {import("./chatmodel.js").Announcement} Announcement
 * @typedef {import("./chatmodel.js").Reactions} Reactions
 * @typedef {import("./chatmodel.js").ChatEvent} ChatEvent
 * @typedef {import("./chatmodel.js").Timers} Timers
 */

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
