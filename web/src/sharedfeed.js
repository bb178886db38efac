// One live event feed per browser and stream, shared by every tab.
//
// An EventSource holds an HTTP connection open for as long as the page
// lives. Over HTTP/1.1 a browser opens at most six connections to one host,
// so six player tabs on one server would hold all six and starve their own
// playlist and segment requests. (Over HTTP/2, as with TLS, this does not
// arise: one connection carries everything.) So the tabs elect one leader
// with the Web Locks API; the leader opens the LiveFeed and passes every
// event to the other tabs over a BroadcastChannel. When the leader tab
// closes, its lock is released, the next tab takes the feed over, and every
// tab catches up on what it may have missed (onReopen). Without Web Locks or
// BroadcastChannel each tab opens its own feed, as before.
import { LiveFeed } from "./chat.js";

/**
 * @typedef {import("./chatmodel.js").ChatEvent} ChatEvent
 * @typedef {{onEvent: (e: ChatEvent) => void, onState: (on: boolean) => void, onReopen: () => void}} Handlers
 * @typedef {{request: (name: string, opts: {signal: AbortSignal}, fn: () => Promise<void>) => Promise<unknown>}} Locks
 * @typedef {{postMessage: (m: unknown) => void, close: () => void, onmessage: ((ev: {data: any}) => void) | null}} Channel
 * @typedef {{start(): void, close(): void, reopening?: boolean, connected?: boolean}} Feed
 */

/** Events a newcomer tab needs to see the current state. */
const STATE_EVENTS = new Set(["reactions", "viewers"]);

export class SharedFeed {
  /**
   * @param {Handlers & {
   *   url: string,
   *   stream: string,
   *   locks?: Locks | null,
   *   channel?: ((name: string) => Channel) | null,
   *   makeFeed?: (p: Handlers & {url: string, stream: string}) => Feed,
   * }} p
   */
  constructor({ url, stream, onEvent, onState, onReopen, locks, channel, makeFeed }) {
    Object.assign(this, { url, stream, onEvent, onState, onReopen });
    this.locks = locks !== undefined ? locks : (globalThis.navigator?.locks ?? null);
    this.channel = channel !== undefined ? channel : (typeof BroadcastChannel === "function" ? (name) => new BroadcastChannel(name) : null);
    this.makeFeed = makeFeed ?? ((p) => new LiveFeed(p));
    /** @type {Feed|null} */
    this.feed = null;
    /** @type {Channel|null} */
    this.bc = null;
    this.leading = false;
    this.everLed = false;
    this.joinedLate = false;
    /**
     * The leader's latest state events (and when they arrived), replayed to
     * a tab that joins.
     * @type {Map<string, {e: ChatEvent, at: number}>}
     */
    this.state = new Map();
    this.now = () => Date.now();
    this.release = () => {};
    this.abort = null;
  }

  /** True when this tab holds the shared feed. */
  get isLeader() {
    return this.leading;
  }

  start() {
    if (!this.locks || !this.channel) {
      this.feed = this.makeFeed(this.handlers(false));
      this.feed.start();
      return;
    }
    const name = `canopy-chat:${this.url}`;
    this.bc = this.channel(name);
    this.bc.onmessage = (ev) => this.receive(ev.data);
    this.bc.postMessage({ type: "hello" });
    this.abort = new AbortController();
    this.locks
      .request(name, { signal: this.abort.signal }, () => this.lead())
      .catch(() => {}); // aborted by close()
  }

  /** Holds the lock: runs the feed until close(). */
  lead() {
    this.leading = true;
    const takeover = this.everLed || this.joinedLate;
    this.everLed = true;
    this.feed = this.makeFeed(this.handlers(true));
    if (takeover) this.feed.reopening = true; // catch up once it is open
    this.feed.start();
    return new Promise((resolve) => {
      this.release = resolve;
    });
  }

  /** The LiveFeed's handlers; a leader also forwards to the other tabs. */
  handlers(share) {
    return {
      url: this.url,
      stream: this.stream,
      onEvent: (e) => {
        this.onEvent(e);
        if (!share) return;
        if (STATE_EVENTS.has(e.type)) this.state.set(e.type, { e, at: this.now() });
        else if (e.type === "announcement") this.state.set(`announcement:${e.value.id}`, { e, at: this.now() });
        this.post({ type: "event", event: e });
      },
      onState: (on) => {
        this.onState(on);
        if (share) this.post({ type: "state", connected: on });
      },
      onReopen: () => {
        this.onReopen();
        if (share) this.post({ type: "reopen" });
      },
    };
  }

  post(m) {
    try {
      this.bc?.postMessage(m);
    } catch {
      // the channel is closed
    }
  }

  /** A message from another tab. */
  receive(m) {
    if (typeof m !== "object" || m === null) return;
    if (this.leading) {
      if (m.type === "hello") {
        this.post({ type: "state", connected: this.feed?.connected === true });
        for (const [key, { e, at }] of this.state) {
          const replay = this.aged(e, this.now() - at);
          if (replay) this.post({ type: "event", event: replay });
          else this.state.delete(key);
        }
      }
      return;
    }
    // A follower: it has seen the leader, so if it ever takes over it
    // must catch up on the gap.
    this.joinedLate = true;
    switch (m.type) {
      case "event":
        if (m.event && typeof m.event.type === "string") this.onEvent(m.event);
        break;
      case "state":
        this.onState(m.connected === true);
        break;
      case "reopen":
        this.onReopen();
        break;
    }
  }

  /**
   * e as it should be replayed age ms after it arrived: an announcement
   * with its remaining time reduced, or null once it is over.
   * @param {ChatEvent} e @param {number} age
   */
  aged(e, age) {
    if (e.type !== "announcement") return e;
    const left = (e.value.remaining_ms ?? e.value.until - e.value.at) - age;
    return left > 0 ? { type: e.type, value: { ...e.value, remaining_ms: left } } : null;
  }

  close() {
    this.abort?.abort();
    this.release();
    this.feed?.close();
    this.feed = null;
    this.leading = false;
    if (this.bc) {
      this.bc.onmessage = null;
      this.bc.close();
      this.bc = null;
    }
  }
}
