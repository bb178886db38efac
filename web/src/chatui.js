// The chat panel, reactions bar and announcement overlay of the player
// page (the DOM side of chat.js). Plain DOM; every text from the network
// or the user goes in through textContent.
//
// Stable hooks for automated tests (keep them):
//   #chat                  the panel; data-connected="true" while the live feed is open
//   #chat-form             the comment form: #chat-author (name), #chat-text (message),
//                          #chat-send (submit button); Enter in #chat-text sends
//   #chat-error            why the last send failed; empty when none
//   #chat-list             the comments, oldest first: one child per comment with
//                          data-id = comment id, holding .chat-author and .chat-text
//                          (system lines such as "x was banned" have data-notice, no data-id)
//   #viewer-count          "42 watching"
//   #reactions             button[data-kind="like"] etc., each with a .count element
//                          whose textContent is the number
//   #announcements         over the video: one child per active announcement with
//                          data-id and data-kind ("news" | "disclaimer"), holding
//                          .announcement-text; removed when its time is up
//   Broadcaster controls:  #chat-mod (details), #chat-key + #chat-key-form, #chat-key-forget,
//                          .chat-delete / .chat-ban buttons in each comment (shown while
//                          #chat has class "moderating"), #announce-form with
//                          #announce-kind, #announce-text, #announce-duration, #announce-send,
//                          #chat-mod-error
//   window.canopy.chat     the object startChat returns (comments(), counts(),
//                          announcements(), connected()), read from the DOM
import { ChatAPI, ChatSession, MAX_TEXT_CHARS, charCount, reactionLabel } from "./chat.js";
import { SharedFeed } from "./sharedfeed.js";

const AUTHOR_KEY = "canopy.author";
/** Lines this close to the bottom count as "at the bottom" for auto-scroll. */
const STICK_PX = 32;
const CUE_MS = 700;

/** localStorage or sessionStorage that may be missing (private mode). */
function store(kind) {
  const get = () => {
    try {
      return kind === "local" ? window.localStorage : window.sessionStorage;
    } catch {
      return null;
    }
  };
  return {
    get(name) {
      try {
        return get()?.getItem(name) ?? "";
      } catch {
        return "";
      }
    },
    set(name, value) {
      try {
        if (value) get()?.setItem(name, value);
        else get()?.removeItem(name);
      } catch {
        // not remembered
      }
    },
  };
}

/**
 * @param {keyof HTMLElementTagNameMap} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** Renders a ChatSession into the page's chat elements. */
class ChatPanel {
  /** @param {Document} doc */
  constructor(doc) {
    const $ = (id) => /** @type {HTMLElement} */ (doc.getElementById(id));
    this.root = $("chat");
    this.list = $("chat-list");
    this.more = $("chat-more");
    this.viewers = $("viewer-count");
    this.state = $("chat-state");
    this.status = $("chat-status");
    this.reactions = $("reactions");
    this.announcements = $("announcements");
    /** @type {Map<string, HTMLElement>} entry id -> its line */
    this.rows = new Map();
    this.lastId = "";
    /** whether the list follows new lines: the viewer is at its bottom */
    this.stuck = true;
    this.everConnected = false;
    /** @type {(kind: string, button: HTMLButtonElement) => void} */
    this.onReact = () => {};
    this.list.addEventListener("scroll", () => {
      this.stuck = this.atBottom();
      if (this.stuck) this.more.hidden = true;
    });
    this.more.addEventListener("click", () => this.toBottom());
    // A list made shorter (phone rotated, broadcaster panel opened) keeps
    // following when it did.
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => this.stuck && this.toBottom()).observe(this.list);
    }
  }

  toBottom() {
    this.list.scrollTop = this.list.scrollHeight;
    this.stuck = true;
    this.more.hidden = true;
  }

  atBottom() {
    const l = this.list;
    return l.scrollHeight - l.scrollTop - l.clientHeight <= STICK_PX;
  }

  /** @param {import("./chat.js").Entry} e */
  row(e) {
    const li = el("li", e.system ? "chat-item chat-system" : "chat-item");
    if (e.system) {
      li.dataset.notice = "";
      li.append(el("span", "chat-text", e.text));
      return li;
    }
    li.dataset.id = e.id;
    const time = el("time", "chat-time", clock.format(e.at));
    time.dateTime = new Date(e.at).toISOString();
    time.title = fullTime.format(e.at);
    const actions = el("span", "chat-actions");
    const del = el("button", "chat-delete", "✕");
    del.type = "button";
    del.title = "Delete this comment";
    del.setAttribute("aria-label", `Delete the comment of ${e.author}`);
    const ban = el("button", "chat-ban", "Ban");
    ban.type = "button";
    ban.title = `Ban ${e.author}`;
    ban.setAttribute("aria-label", `Ban ${e.author}`);
    actions.append(del, ban);
    // The actions come first so that they float to the right of the first line.
    li.append(actions, time, el("span", "chat-author", e.author), el("span", "chat-text", e.text));
    return li;
  }

  /** @param {import("./chat.js").Entry[]} entries */
  showComments(entries) {
    const stick = this.stuck;
    const want = new Set(entries.map((e) => e.id));
    for (const [id, li] of this.rows) {
      if (!want.has(id)) {
        li.remove();
        this.rows.delete(id);
      }
    }
    let cursor = this.list.firstElementChild;
    for (const e of entries) {
      let li = this.rows.get(e.id);
      if (!li) {
        li = this.row(e);
        this.rows.set(e.id, li);
      }
      if (li === cursor) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(li, cursor);
    }
    const lastId = entries[entries.length - 1]?.id ?? "";
    if (stick) this.toBottom();
    else if (lastId !== this.lastId && lastId) this.more.hidden = false;
    this.lastId = lastId;
  }

  /** @param {string[]} kinds @param {Record<string, number>} counts */
  showReactions(kinds, counts) {
    const all = [...new Set([...kinds, ...Object.keys(counts)])];
    const existing = new Map([...this.reactions.querySelectorAll("button[data-kind]")].map((b) => [/** @type {HTMLElement} */ (b).dataset.kind, b]));
    for (const [kind, b] of existing) if (!all.includes(kind)) b.remove();
    let cursor = this.reactions.firstElementChild;
    for (const kind of all) {
      let b = /** @type {HTMLButtonElement|undefined} */ (existing.get(kind));
      if (!b) {
        b = /** @type {HTMLButtonElement} */ (el("button", "reaction"));
        b.type = "button";
        b.dataset.kind = kind;
        b.title = kind;
        const face = el("span", "emoji", reactionLabel(kind));
        face.setAttribute("aria-hidden", "true");
        b.append(face, el("span", "count", "0"));
        const button = b;
        b.addEventListener("click", () => this.onReact(kind, button));
      }
      // In the server's order, moving no button that is in place (a moved
      // button would lose the keyboard focus).
      if (b === cursor) cursor = cursor.nextElementSibling;
      else this.reactions.insertBefore(b, cursor);
      const n = String(counts[kind] ?? 0);
      const count = /** @type {HTMLElement} */ (b.querySelector(".count"));
      if (count.textContent !== n) count.textContent = n;
      b.setAttribute("aria-label", `${kind}: ${n}`);
    }
  }

  /** A short visual cue on a reaction button: sent, or too fast. */
  cue(button, result) {
    const cls = result === "ok" ? "sent" : "limited";
    button.classList.remove("sent", "limited");
    void button.offsetWidth; // restart the animation
    button.classList.add(cls);
    setTimeout(() => button.classList.remove(cls), CUE_MS);
  }

  showViewers(count) {
    this.viewers.textContent = `${count} watching`;
  }

  /** @param {import("./chat.js").Announcement[]} list */
  showAnnouncements(list) {
    const existing = new Map([...this.announcements.children].map((c) => [/** @type {HTMLElement} */ (c).dataset.id, c]));
    const want = new Set(list.map((a) => a.id));
    for (const [id, c] of existing) if (!want.has(id)) c.remove();
    for (const a of list) {
      let box = /** @type {HTMLElement|undefined} */ (existing.get(a.id));
      if (!box) {
        box = el("div", "announcement");
        box.dataset.id = a.id;
        box.append(el("span", "announcement-label"), el("span", "announcement-text"));
        this.announcements.append(box);
      }
      box.dataset.kind = a.kind;
      box.className = `announcement ${a.kind === "disclaimer" ? "disclaimer" : "news"}`;
      /** @type {HTMLElement} */ (box.firstElementChild).textContent = a.kind === "disclaimer" ? "Disclaimer" : a.kind === "news" ? "News" : a.kind;
      const text = /** @type {HTMLElement} */ (box.lastElementChild);
      if (text.textContent !== a.text) text.textContent = a.text;
    }
  }

  showConnected(on) {
    this.root.dataset.connected = String(on);
    if (on) this.everConnected = true;
    this.state.textContent = on ? "" : this.everConnected ? "reconnecting…" : "connecting…";
  }

  showStatus(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }
}

/** Wires the comment form: name remembered, counter, Enter sends. */
function bindForm(doc, session) {
  const $ = (id) => /** @type {HTMLInputElement} */ (doc.getElementById(id));
  const form = $("chat-form");
  const author = $("chat-author");
  const text = $("chat-text");
  const send = $("chat-send");
  const error = $("chat-error");
  const counter = $("chat-counter");
  const local = store("local");
  author.value = local.get(AUTHOR_KEY);
  const count = () => {
    const n = charCount(text.value);
    counter.textContent = `${n}/${MAX_TEXT_CHARS}`;
    counter.classList.toggle("near", n > MAX_TEXT_CHARS - 50);
  };
  count();
  text.addEventListener("input", count);
  author.addEventListener("change", () => local.set(AUTHOR_KEY, author.value.trim()));
  // Enter in the name field goes on to the message instead of sending.
  author.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      text.focus();
    }
  });
  let sending = false;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (sending) return;
    sending = true;
    send.disabled = true;
    try {
      const problem = await session.send(author.value, text.value);
      error.textContent = problem;
      if (!problem) {
        local.set(AUTHOR_KEY, author.value.trim());
        text.value = "";
        count();
      }
    } finally {
      sending = false;
      send.disabled = false;
      if (!author.value.trim()) author.focus();
      else text.focus();
    }
  });
}

/** Wires the broadcaster's controls; the stream key stays in sessionStorage. */
function bindModeration(doc, stream, session, panel) {
  const $ = (id) => /** @type {HTMLInputElement} */ (doc.getElementById(id));
  const details = /** @type {HTMLDetailsElement} */ (/** @type {unknown} */ ($("chat-mod")));
  const keyForm = $("chat-key-form");
  const keyInput = $("chat-key");
  const forget = $("chat-key-forget");
  const keyState = $("chat-key-state");
  const announceForm = $("announce-form");
  const kind = $("announce-kind");
  const text = $("announce-text");
  const duration = $("announce-duration");
  const announceSend = $("announce-send");
  const error = $("chat-mod-error");
  const tabStore = store("session");
  const name = `canopy.streamkey.${stream}`;
  const show = (message) => {
    error.textContent = message;
    if (message) details.open = true;
  };
  const moderating = (on) => {
    panel.root.classList.toggle("moderating", on);
    keyForm.hidden = on;
    forget.hidden = !on;
    announceForm.hidden = !on;
    keyState.textContent = on ? "Stream key set (this tab only)." : "";
    /** @type {HTMLElement} */ (keyState.parentElement).hidden = !on;
  };
  const saved = tabStore.get(name);
  session.setKey(saved);
  moderating(Boolean(saved));

  keyForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const key = keyInput.value.trim();
    if (!key) return show("Paste the stream key first.");
    keyInput.value = "";
    tabStore.set(name, key);
    session.setKey(key);
    moderating(true);
    show("");
  });
  forget.addEventListener("click", () => {
    tabStore.set(name, "");
    session.setKey("");
    moderating(false);
    show("");
  });
  panel.list.addEventListener("click", async (ev) => {
    const button = /** @type {HTMLElement} */ (ev.target).closest?.("button.chat-delete, button.chat-ban");
    const li = /** @type {HTMLElement|null} */ (button?.closest("[data-id]"));
    if (!button || !li) return;
    const b = /** @type {HTMLButtonElement} */ (button);
    b.disabled = true;
    const author = li.querySelector(".chat-author")?.textContent ?? "";
    const problem = b.classList.contains("chat-delete") ? await session.deleteComment(li.dataset.id) : await session.ban(author);
    b.disabled = false;
    show(problem);
  });
  announceForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    announceSend.disabled = true;
    const problem = await session.announce(kind.value, text.value, Number(duration.value));
    announceSend.disabled = false;
    show(problem);
    if (!problem) text.value = "";
  });
}

/**
 * Starts the chat of a stream in the page's chat elements.
 * @param {{stream: string, doc?: Document}} p
 * @returns {{comments(): {id: string, author: string, text: string}[], counts(): Record<string, number>,
 *   announcements(): {id: string, kind: string, text: string}[], connected(): boolean}|null}
 *   the test API (window.canopy.chat); null when the page has no chat
 */
export function startChat({ stream, doc = document }) {
  if (!stream || !doc.getElementById("chat")) return null;
  const panel = new ChatPanel(doc);
  const api = new ChatAPI({ stream });
  const session = new ChatSession({
    api,
    view: panel,
    feed: (handlers) => new SharedFeed({ url: api.eventsURL(), stream, ...handlers }),
  });
  panel.onReact = async (kind, button) => {
    const result = await session.react(kind);
    panel.cue(button, result);
  };
  bindForm(doc, session);
  bindModeration(doc, stream, session, panel);
  session.start();
  const textOf = (node, sel) => node.querySelector(sel)?.textContent ?? "";
  return {
    comments: () =>
      [...panel.list.children]
        .filter((li) => /** @type {HTMLElement} */ (li).dataset.id)
        .map((li) => ({ id: /** @type {HTMLElement} */ (li).dataset.id, author: textOf(li, ".chat-author"), text: textOf(li, ".chat-text") })),
    counts: () =>
      Object.fromEntries(
        [...panel.reactions.querySelectorAll("button[data-kind]")].map((b) => [/** @type {HTMLElement} */ (b).dataset.kind, Number(textOf(b, ".count"))]),
      ),
    announcements: () =>
      [...panel.announcements.children].map((box) => ({
        id: /** @type {HTMLElement} */ (box).dataset.id,
        kind: /** @type {HTMLElement} */ (box).dataset.kind,
        text: textOf(box, ".announcement-text"),
      })),
    connected: () => panel.root.dataset.connected === "true",
  };
}
