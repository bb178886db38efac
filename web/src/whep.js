// WHEP (RFC 9725) client for the player's low-latency mode: WebRTC media
// straight from the server that served the page.
//
//   POST /live/{stream}/whep   Content-Type: application/sdp, the offer
//     201 Created              the answer; Location: the session URL
//   DELETE <Location>          ends the session
//
// The server puts all its ICE candidates in the answer, and this client
// gathers its own before posting (up to GATHER_TIMEOUT_MS, then it posts
// what it has), so no trickle ICE (PATCH) is needed.
//
// WhepSession is one session: offer, POST, answer, DELETE. WhepLink keeps
// a session up: it starts a new one when the connection fails or stays
// disconnected, with backoff, and gives up after MAX_FAILURES failures in a
// row. Neither touches the DOM; the browser objects (RTCPeerConnection,
// MediaStream, fetch, timers) come in as parameters so the tests can fake
// them. Error texts from the server go to the console only: what the page
// shows is fixed text from userMessage().

/** Gathering longer than this posts the candidates found so far. */
export const GATHER_TIMEOUT_MS = 3000;
/** A POST that has not answered after this is a network failure. */
export const POST_TIMEOUT_MS = 10_000;
/** Answered but not connected after this: a connection failure. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Disconnected longer than this: a connection failure (new session). */
export const DISCONNECT_GRACE_MS = 5000;
/** Connection failures in a row before the page gives up on low latency. */
export const MAX_FAILURES = 3;
/** Connected this long, earlier failures are forgotten. */
export const STABLE_MS = 30_000;

/**
 * unavailable: 404, no low-latency media for the stream on this server;
 * busy: 503; http: any other refusal; protocol: an answer the browser
 * cannot use; network: the request failed or timed out; connection: ICE
 * or DTLS failed, or stayed disconnected; unsupported: no WebRTC here;
 * closed: the session was ended by this page.
 * @typedef {"unavailable"|"busy"|"http"|"protocol"|"network"|"connection"|"unsupported"|"closed"} WhepErrorKind
 */

export class WhepError extends Error {
  /** @param {WhepErrorKind} kind @param {string} message @param {number} [status] HTTP status, 0 if none */
  constructor(kind, message, status = 0) {
    super(message);
    this.name = "WhepError";
    this.kind = kind;
    this.status = status;
  }
}

/** Failures that a new session may cure; the others fall back at once. */
const RETRYABLE = new Set(["network", "connection"]);

/** @param {WhepError} err */
export const isRetryable = (err) => RETRYABLE.has(err.kind);

/**
 * The stream's WHEP endpoint on the server that served the page.
 * @param {string} stream @param {string} base the page URL
 */
export function whepEndpoint(stream, base) {
  return new URL(`/live/${encodeURIComponent(stream)}/whep`, base).href;
}

/**
 * The origin (scheme://host:port) of an absolute URL; null when unusable.
 * @param {string} url
 */
export function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * The session URL from a Location header, resolved against the URL that
 * answered (the server sends a path). Null when absent or unusable.
 * @param {string|null|undefined} location @param {string} endpoint
 */
export function resolveLocation(location, endpoint) {
  if (!location) return null;
  try {
    return new URL(location, endpoint).href;
  } catch {
    return null;
  }
}

/**
 * The error for a refused POST.
 * @param {number} status @param {string} [body] the server's text (console only)
 */
export function responseError(status, body = "") {
  const detail = body.trim().slice(0, 200);
  const message = `WHEP POST: HTTP ${status}${detail ? `: ${detail}` : ""}`;
  if (status === 404) return new WhepError("unavailable", message, status);
  if (status === 503) return new WhepError("busy", message, status);
  return new WhepError("http", message, status);
}

/**
 * What the page tells the viewer about a failure.
 * @param {WhepError} err
 */
export function userMessage(err) {
  switch (err.kind) {
    case "unavailable":
      return "Low latency is not available for this stream here.";
    case "busy":
      return "Low latency is busy on this server right now.";
    case "http":
      return `Low latency was refused by the server (HTTP ${err.status}).`;
    case "protocol":
      return "Low latency failed: the server's answer was not usable.";
    case "network":
      return "Cannot reach the server for low latency.";
    case "connection":
      return "The low-latency connection was lost.";
    case "unsupported":
      return "This browser cannot play low latency (no WebRTC).";
    default:
      return "Low latency stopped.";
  }
}

/**
 * Delay before new session number `failures` + 1: 1 s, 2 s, 4 s, ... up to
 * 8 s, spread by ±25% so viewers dropped together do not return together.
 * @param {number} failures failures so far (>= 1)
 * @param {() => number} [random] in [0, 1)
 */
export function backoffMs(failures, random = Math.random) {
  const base = Math.min(8000, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.75 + 0.5 * random()));
}

/**
 * What to do after a failure.
 * @param {WhepError} err
 * @param {number} failures retryable failures in a row, this one included
 * @param {{maxFailures?: number, random?: () => number}} [o]
 * @returns {{action: "retry", delayMs: number, message: string} | {action: "fallback", message: string}}
 */
export function nextStep(err, failures, { maxFailures = MAX_FAILURES, random = Math.random } = {}) {
  if (isRetryable(err) && failures < maxFailures) {
    return {
      action: "retry",
      delayMs: backoffMs(failures, random),
      message: `${userMessage(err)} Reconnecting (try ${failures + 1} of ${maxFailures})…`,
    };
  }
  if (isRetryable(err)) return { action: "fallback", message: `Low latency failed ${failures} times in a row; playing in normal mode.` };
  return { action: "fallback", message: `${userMessage(err)} Playing in normal mode.` };
}

/**
 * setTimeout and clearTimeout, injectable.
 * @typedef {{set: (fn: () => void, ms: number) => unknown, clear: (handle: unknown) => void}} Timers
 */

/** @type {Timers} */
export const realTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(/** @type {any} */ (handle)),
};

/**
 * Resolves once ICE gathering is complete (true) or after timeoutMs with
 * whatever was gathered (false).
 * @param {RTCPeerConnection} pc @param {number} timeoutMs @param {Timers} timers
 * @returns {Promise<boolean>}
 */
export function waitForGathering(pc, timeoutMs, timers) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") {
      resolve(true);
      return;
    }
    let timer;
    const done = (complete) => {
      timers.clear(timer);
      pc.removeEventListener("icegatheringstatechange", onChange);
      resolve(complete);
    };
    const onChange = () => {
      if (pc.iceGatheringState === "complete") done(true);
    };
    pc.addEventListener("icegatheringstatechange", onChange);
    timer = timers.set(() => done(false), timeoutMs);
  });
}

/**
 * @typedef {object} SessionParams
 * @property {string} endpoint absolute WHEP endpoint URL
 * @property {typeof fetch} fetch
 * @property {(config: RTCConfiguration) => RTCPeerConnection} newPeerConnection
 * @property {RTCConfiguration} [rtcConfig]
 * @property {Timers} [timers]
 * @property {number} [gatherTimeoutMs]
 * @property {number} [postTimeoutMs]
 */

/**
 * One WHEP session. connect() once, close() once (it may come first).
 */
export class WhepSession {
  /** @param {SessionParams} p */
  constructor(p) {
    this.p = p;
    this.timers = p.timers ?? realTimers;
    /** @type {RTCPeerConnection|null} */
    this.pc = null;
    /** The session URL (absolute), once the server answered. */
    this.location = null;
    /** The origin (scheme://host:port) of the server that answered. */
    this.server = null;
    /** @type {MediaStreamTrack[]} the receivers' tracks, video then audio; they exist before any media arrives */
    this.tracks = [];
    this.closed = false;
    this.abort = new AbortController();
  }

  /**
   * Offers to receive video and audio, posts the offer once the candidates
   * are gathered, and applies the answer.
   * @returns {Promise<MediaStreamTrack[]>} the tracks to play
   */
  async connect() {
    const { p } = this;
    let pc;
    try {
      pc = this.pc = p.newPeerConnection({ bundlePolicy: "max-bundle", ...(p.rtcConfig ?? {}) });
    } catch (err) {
      throw new WhepError("unsupported", `RTCPeerConnection: ${err}`);
    }
    const video = pc.addTransceiver("video", { direction: "recvonly" });
    const audio = pc.addTransceiver("audio", { direction: "recvonly" });
    this.tracks = [video.receiver.track, audio.receiver.track].filter(Boolean);
    await pc.setLocalDescription(await pc.createOffer());
    await waitForGathering(pc, p.gatherTimeoutMs ?? GATHER_TIMEOUT_MS, this.timers);
    this.check();
    const res = await this.post(pc.localDescription?.sdp ?? "");
    // The page's server may redirect the offer (307) to the relay node the
    // tracker chose; fetch follows it, and the session lives there.
    const served = res.url || p.endpoint;
    this.server = originOf(served);
    const location = resolveLocation(res.headers.get("Location"), served);
    if (this.closed) {
      // Ended while the server was answering: end the new session too.
      if (location) this.remove(location);
      this.check();
    }
    this.location = location;
    if (!res.ok) throw responseError(res.status, await res.text().catch(() => ""));
    if (!location) console.warn("canopy: WHEP answer without a Location; the session cannot be ended from here");
    const answer = await res.text();
    this.check();
    try {
      await pc.setRemoteDescription({ type: "answer", sdp: answer });
    } catch (err) {
      throw new WhepError("protocol", `WHEP answer: ${err}`, res.status);
    }
    this.check();
    return this.tracks;
  }

  /** @param {string} sdp */
  async post(sdp) {
    const { p, timers } = this;
    const timer = timers.set(() => this.abort.abort(), p.postTimeoutMs ?? POST_TIMEOUT_MS);
    try {
      return await p.fetch(p.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/sdp" },
        body: sdp,
        cache: "no-store",
        signal: this.abort.signal,
      });
    } catch (err) {
      this.check();
      throw new WhepError("network", `WHEP POST: ${err?.message ?? err}`);
    } finally {
      timers.clear(timer);
    }
  }

  /** Throws once close() has been called. */
  check() {
    if (this.closed) throw new WhepError("closed", "WHEP session closed");
  }

  /**
   * Closes the PeerConnection and deletes the session on the server. The
   * DELETE is sent with keepalive, so it also goes out while the page
   * unloads. Never rejects.
   * @returns {Promise<void>}
   */
  close() {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.abort.abort();
    // The DELETE goes first (synchronously, so also from a pagehide
    // handler): the server then ends the session on the request rather
    // than on the DTLS close that pc.close() sends.
    const location = this.location;
    this.location = null;
    const removed = location ? this.remove(location) : Promise.resolve();
    try {
      this.pc?.close();
    } catch {
      // already closed
    }
    return removed;
  }

  /** @param {string} location */
  remove(location) {
    const warn = (err) => console.warn(`canopy: WHEP DELETE ${location}: ${err?.message ?? err}`);
    try {
      return Promise.resolve(this.p.fetch(location, { method: "DELETE", keepalive: true })).then(() => {}, warn);
    } catch (err) {
      warn(err);
      return Promise.resolve();
    }
  }
}

/**
 * State of a WhepLink: idle before start; connecting; connected;
 * disconnected (for less than the grace period); retrying (waiting for
 * the next session); failed (gave up: the page falls back); closed (stopped).
 * @typedef {"idle"|"connecting"|"connected"|"disconnected"|"retrying"|"failed"|"closed"} LinkState
 */

/**
 * @typedef {object} LinkParams
 * @property {string} endpoint
 * @property {typeof fetch} fetch
 * @property {(config: RTCConfiguration) => RTCPeerConnection} newPeerConnection
 * @property {(tracks: MediaStreamTrack[]) => MediaStream} newMediaStream
 * @property {(stream: MediaStream) => void} onMedia a session's media, to attach to the video
 * @property {(text: string) => void} [onStatus] status line; "" clears it
 * @property {(message: string, err: WhepError) => void} [onFallback] gave up; the page plays HLS again
 * @property {(state: LinkState) => void} [onState]
 * @property {RTCConfiguration} [rtcConfig]
 * @property {Timers} [timers]
 * @property {() => number} [random]
 * @property {number} [gatherTimeoutMs]
 * @property {number} [postTimeoutMs]
 * @property {number} [connectTimeoutMs]
 * @property {number} [disconnectGraceMs]
 * @property {number} [stableMs]
 * @property {number} [maxFailures]
 */

/** Keeps a WHEP session up (see the top of this file). */
export class WhepLink {
  /** @param {LinkParams} p */
  constructor(p) {
    this.p = p;
    this.timers = p.timers ?? realTimers;
    /** @type {LinkState} */
    this.state = "idle";
    /** Retryable failures in a row. */
    this.failures = 0;
    this.running = false;
    /** @type {WhepSession|null} */
    this.session = null;
    /** @type {Record<string, unknown>} pending timers by purpose */
    this.timer = {};
  }

  /** The current session's PeerConnection, for getStats. */
  get pc() {
    return this.session?.pc ?? null;
  }

  /** The origin of the server the current session is on, once known. */
  get server() {
    return this.session?.server ?? null;
  }

  /** Starts (or, after stop or a fallback, restarts) the link. */
  start() {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.open();
  }

  /**
   * Ends the link: closes the session and deletes it on the server.
   * @returns {Promise<void>}
   */
  stop() {
    this.running = false;
    this.clearTimers();
    const session = this.session;
    this.session = null;
    this.setState("closed");
    return session ? session.close() : Promise.resolve();
  }

  /** @param {LinkState} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.p.onState?.(state);
  }

  /** @param {string} name @param {() => void} fn @param {number} ms */
  arm(name, fn, ms) {
    this.disarm(name);
    this.timer[name] = this.timers.set(() => {
      delete this.timer[name];
      fn();
    }, ms);
  }

  /** @param {string} name */
  disarm(name) {
    if (!(name in this.timer)) return;
    this.timers.clear(this.timer[name]);
    delete this.timer[name];
  }

  clearTimers() {
    for (const name of Object.keys(this.timer)) this.disarm(name);
  }

  async open() {
    const { p } = this;
    const session = new WhepSession({
      endpoint: p.endpoint,
      fetch: p.fetch,
      newPeerConnection: p.newPeerConnection,
      rtcConfig: p.rtcConfig,
      timers: this.timers,
      gatherTimeoutMs: p.gatherTimeoutMs,
      postTimeoutMs: p.postTimeoutMs,
    });
    this.session = session;
    this.setState("connecting");
    let tracks;
    try {
      tracks = await session.connect();
    } catch (err) {
      if (this.session !== session) return; // stopped meanwhile
      this.fail(err instanceof WhepError ? err : new WhepError("protocol", `WHEP: ${err?.message ?? err}`));
      return;
    }
    if (this.session !== session) {
      session.close();
      return;
    }
    p.onMedia(p.newMediaStream(tracks));
    const pc = /** @type {RTCPeerConnection} */ (session.pc);
    pc.addEventListener("connectionstatechange", () => {
      if (this.session === session) this.onConnectionState(pc.connectionState);
    });
    this.arm("connect", () => this.fail(new WhepError("connection", "WebRTC did not connect in time")), p.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    if (pc.connectionState === "connected") this.onConnectionState("connected");
  }

  /** @param {RTCPeerConnectionState} state */
  onConnectionState(state) {
    const { p } = this;
    switch (state) {
      case "connected":
        this.disarm("connect");
        this.disarm("grace");
        this.setState("connected");
        p.onStatus?.("");
        this.arm(
          "stable",
          () => {
            this.failures = 0;
          },
          p.stableMs ?? STABLE_MS,
        );
        break;
      case "disconnected":
        this.disarm("stable");
        if (this.state !== "connected") break; // still connecting: the connect timer runs
        this.setState("disconnected");
        p.onStatus?.("Low-latency connection interrupted; waiting for it to come back…");
        this.arm("grace", () => this.fail(new WhepError("connection", "WebRTC disconnected for too long")), p.disconnectGraceMs ?? DISCONNECT_GRACE_MS);
        break;
      case "failed":
      case "closed":
        this.fail(new WhepError("connection", `WebRTC connection ${state}`));
        break;
    }
  }

  /** Ends the session and retries or gives up. @param {WhepError} err */
  fail(err) {
    const { p } = this;
    this.clearTimers();
    const session = this.session;
    this.session = null;
    session?.close();
    if (!this.running) return;
    console.warn(`canopy: low latency: ${err.message}`);
    if (isRetryable(err)) this.failures++;
    const step = nextStep(err, this.failures, { maxFailures: p.maxFailures, random: p.random });
    if (step.action === "retry") {
      this.setState("retrying");
      p.onStatus?.(step.message);
      this.arm("retry", () => this.open(), step.delayMs);
      return;
    }
    this.running = false;
    this.setState("failed");
    p.onFallback?.(step.message, err);
  }
}
