// Entry point of /watch/{stream}: finds the stream, sets up verification
// and the player, wires the controls, starts the chat (chatui.js) and
// exposes window.canopy.
//
// Query parameters:
//   ?corrupt=1  TEST HOOK. This page corrupts the segment bytes it uploads
//               to peers (its own playback keeps the good bytes), to check
//               that other viewers reject them and drop this peer. Never
//               set it outside tests.
// The light build of hls.js: no subtitles, alternate audio, DRM, CMCD,
// content steering or interstitials, none of which Canopy's streams (muxed
// audio and video in fMP4) use; about 30% less to download.
import Hls from "hls.js/light";
import { playerInfo, sleep, streamInfo } from "./api.js";
import { startChat } from "./chatui.js";
import { NativePlayer } from "./native.js";
import { connectionHints, uploadByDefault } from "./network.js";
import { MODES, defaultTracker } from "./p2pconfig.js";
import { LOW_LATENCY, P2PPlayer, canPlayLowLatency } from "./player.js";
import { RecordBook } from "./records.js";
import { decodeBase64 } from "./signing.js";
import * as ui from "./ui.js";
import { SegmentVerifier } from "./verifier.js";

const stream = decodeURIComponent(location.pathname.split("/")[2] ?? "");
const query = new URLSearchParams(location.search);
const corruptUploads = query.get("corrupt") === "1";

/** Remembered user choices; the defaults apply until the viewer picks. */
const prefs = {
  get(name) {
    try {
      return localStorage.getItem(`canopy.${name}`);
    } catch {
      return null;
    }
  },
  set(name, value) {
    try {
      localStorage.setItem(`canopy.${name}`, value);
    } catch {
      // private mode: not remembered
    }
  },
};

/** Waits until the stream is playable; returns its info. */
async function waitForStream() {
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await streamInfo(stream);
      if (!info) ui.setStatus(`No stream called “${stream}”.`);
      else if (info.hls && info.broadcast) return info;
      else ui.setStatus(info.live ? "The stream is starting…" : "The stream is offline; waiting for it to start…");
    } catch (err) {
      ui.setStatus(`Cannot reach the server (${err.message}); retrying…`);
    }
    await sleep(Math.min(10_000, 2_000 + attempt * 1_000));
  }
}

/** Waits for the origin's public key; nothing plays unverified. */
async function waitForKey() {
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await playerInfo();
      const key = decodeBase64(info.public_key);
      if (key && key.length === 32) return { key, trackers: info.trackers };
      ui.setStatus("Waiting for the origin's signing key…");
    } catch (err) {
      ui.setStatus(`Cannot reach the server (${err.message}); retrying…`);
    }
    await sleep(Math.min(10_000, 2_000 + attempt * 1_000));
  }
}

/** A validly signed record of another broadcast: the stream restarted. */
async function onOtherBroadcast(current) {
  const info = await streamInfo(stream).catch(() => undefined);
  if (info?.broadcast && info.broadcast !== current) {
    ui.setStatus("The broadcast restarted; reloading…");
    setTimeout(() => location.reload(), 1500);
  }
}

/**
 * window.canopy: stats and controls for tests and debugging. The setters
 * act like the page's controls (and update them). canopy.chat is the
 * chat's (see chatui.js). In low-latency mode hls and engine are null and
 * pc is the WHEP session's RTCPeerConnection.
 */
function expose(player, controls, chat) {
  window.canopy = {
    stats: () => player.snapshot(),
    get hls() {
      return player.hls ?? null;
    },
    get engine() {
      return player.engine ?? null;
    },
    get pc() {
      return player.ll?.pc ?? null;
    },
    setMode: (m) => controls.setMode?.(m),
    setUpload: (on) => controls.setUpload?.(on),
    setQuality: (level) => controls.setQuality?.(level),
    player,
    chat,
  };
}

/** Starts the chat; a failure there leaves the video alone. @returns its test API or null */
function startChatSafely() {
  try {
    return startChat({ stream });
  } catch (err) {
    console.error("chat:", err);
    return null;
  }
}

async function main() {
  ui.setTitle(stream);
  const chat = startChatSafely();
  const video = /** @type {HTMLVideoElement} */ (document.getElementById("video"));
  const savedMode = prefs.get("mode");
  const lowLatencyOK = canPlayLowLatency();
  if (!lowLatencyOK) ui.disableLowLatency();
  const mode = /** @type {import("./player.js").PlayerMode} */ (
    savedMode && (savedMode in MODES || (savedMode === LOW_LATENCY && lowLatencyOK)) ? savedMode : "normal"
  );
  const savedUpload = prefs.get("upload");
  const uploadEnabled = savedUpload ? savedUpload === "on" : uploadByDefault(connectionHints());
  const info = await waitForStream();

  if (!Hls.isSupported()) {
    if (!video.canPlayType("application/vnd.apple.mpegurl")) {
      ui.setStatus("This browser cannot play HLS video.");
      return;
    }
    const player = new NativePlayer({ video, src: info.hls, mode: mode === LOW_LATENCY ? "normal" : mode });
    expose(player, {}, chat);
    ui.disablePlayerControls();
    ui.bindUpload(false, null);
    ui.setNote("This browser plays the stream natively (no Media Source Extensions): no peer-to-peer sharing, and the page cannot check segment signatures.");
    ui.setStatus("");
    player.start();
    setInterval(() => ui.renderStats(player.snapshot()), 1000);
    return;
  }

  const { key, trackers } = await waitForKey();
  ui.setStatus("");
  const book = new RecordBook({ stream, broadcast: info.broadcast, publicKey: key, onOtherBroadcast: () => onOtherBroadcast(info.broadcast) });
  const verifier = new SegmentVerifier({ stream, book });
  const player = new P2PPlayer({
    video,
    stream,
    broadcast: info.broadcast,
    src: info.hls,
    trackers: trackers.length ? trackers : [defaultTracker(location)],
    verifier,
    book,
    mode,
    uploadEnabled,
    corruptUploads,
    events: {
      onLevels: (names) => ui.fillQuality(names, (level) => controls.setQuality(level)),
      onLevelSwitched: (name) => ui.showAutoChoice(player.hls.autoLevelEnabled ? name : ""),
      onStatus: ui.setStatus,
      // Low latency gave up (not available here, busy, or the connection
      // kept failing): the player is in normal mode again. The saved
      // choice stays, so a reload tries low latency again.
      onFallback: (message) => {
        ui.bindMode(player.mode, controls.setMode);
        ui.setLowLatencyControls(false);
        ui.bindUpload(player.uploadEnabled, controls.setUpload);
        ui.setModeNote(message);
      },
    },
  });
  const controls = {
    setMode(m) {
      player.setMode(m);
      prefs.set("mode", m);
      ui.bindMode(m, controls.setMode);
      ui.setModeNote("");
      ui.setLowLatencyControls(m === LOW_LATENCY);
    },
    setUpload(on) {
      player.setUpload(on);
      prefs.set("upload", on ? "on" : "off");
      ui.bindUpload(on, controls.setUpload);
    },
    setQuality(level) {
      player.setQuality(level);
      ui.showQuality(level);
    },
  };
  expose(player, controls, chat);
  ui.bindMode(mode, controls.setMode);
  ui.bindUpload(uploadEnabled, controls.setUpload);
  ui.setLowLatencyControls(mode === LOW_LATENCY);
  // End a WHEP session with the page (DELETE with keepalive); reconnect
  // if the page comes back from the back/forward cache.
  addEventListener("pagehide", () => player.unload());
  addEventListener("pageshow", (e) => e.persisted && player.resume());
  if (corruptUploads) ui.setNote("TEST HOOK ?corrupt=1: this page sends corrupted segments to other viewers.");
  video.addEventListener("playing", () => ui.setStatus(""));
  player.start();
  setInterval(() => ui.renderStats(player.snapshot()), 1000);
}

main().catch((err) => {
  console.error(err);
  ui.setStatus(`Something went wrong: ${err.message}`);
});
