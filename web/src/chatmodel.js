// The state of a stream's conversation, without the DOM or the network:
// parsing what the server sends (defensively: a malformed event or body is
// dropped, never thrown), the ordered comment log, the announcements on
// screen and their timing, the user-facing error messages and the checks
// made before sending. chat.js connects it to the server.

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
export const browserTimers = {
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

export const isObject = (x) => typeof x === "object" && x !== null && !Array.isArray(x);
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
