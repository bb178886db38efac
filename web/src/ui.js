// The player page's controls and stats panel. Plain DOM; every text from
// the network goes in through textContent.
import { shares } from "./stats.js";

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

export function setTitle(text) {
  $("title").textContent = text;
  document.title = `${text} · Canopy`;
}

/** Status line over the video; "" hides it. */
export function setStatus(text) {
  const el = $("status");
  el.textContent = text;
  el.hidden = !text;
}

/** A standing note under the stats (e.g. native playback without P2P). */
export function setNote(text) {
  $("note").textContent = text;
}

/**
 * Fills the quality menu: Auto, then one entry per level, best first.
 * @param {string[]} names level names by hls.js level index
 * @param {(level: number) => void} onChange -1 = Auto
 */
export function fillQuality(names, onChange) {
  const select = /** @type {HTMLSelectElement} */ ($("quality"));
  select.replaceChildren(new Option("Auto", "-1"));
  names
    .map((name, i) => ({ name, i }))
    .reverse()
    .forEach(({ name, i }) => select.add(new Option(name, String(i))));
  select.disabled = names.length < 2;
  select.onchange = () => onChange(Number(select.value));
}

/** Selects a level in the quality menu (-1 = Auto) without firing onChange. */
export function showQuality(level) {
  const select = /** @type {HTMLSelectElement} */ ($("quality"));
  select.value = String(level);
}

/** Shows which rendition Auto is playing: "Auto (720p)". */
export function showAutoChoice(name) {
  const select = /** @type {HTMLSelectElement} */ ($("quality"));
  if (select.options.length) select.options[0].text = name ? `Auto (${name})` : "Auto";
}

/**
 * @param {import("./player.js").PlayerMode} mode
 * @param {(mode: import("./player.js").PlayerMode) => void} onChange
 */
export function bindMode(mode, onChange) {
  for (const input of document.querySelectorAll('input[name="mode"]')) {
    const radio = /** @type {HTMLInputElement} */ (input);
    radio.checked = radio.value === mode;
    radio.onchange = () => radio.checked && onChange(/** @type {any} */ (radio.value));
  }
}

/**
 * @param {boolean} on
 * @param {((on: boolean) => void)|null} onChange null disables the switch
 */
export function bindUpload(on, onChange) {
  const box = /** @type {HTMLInputElement} */ ($("upload"));
  box.checked = on;
  box.disabled = !onChange;
  box.onchange = () => onChange?.(box.checked);
}

/** A note beside the latency switch (why low latency stopped); "" hides it. */
export function setModeNote(text) {
  const el = $("mode-note");
  el.textContent = text;
  el.hidden = !text;
}

/** Disables the low-latency choice (no WebRTC in this browser). */
export function disableLowLatency() {
  const radio = /** @type {HTMLInputElement|null} */ (document.querySelector('input[name="mode"][value="lowlatency"]'));
  if (!radio) return;
  radio.disabled = true;
  radio.closest("label")?.setAttribute("title", "This browser has no WebRTC");
}

/**
 * In low-latency mode there is one rendition and no P2P: the quality menu
 * and the upload switch are off. Leaving it, the upload switch comes back
 * and the quality menu is refilled when hls.js has read the playlist.
 * @param {boolean} on
 */
export function setLowLatencyControls(on) {
  const select = /** @type {HTMLSelectElement} */ ($("quality"));
  const box = /** @type {HTMLInputElement} */ ($("upload"));
  if (on) {
    select.replaceChildren(new Option("Auto", "-1"));
    select.disabled = true;
  }
  box.disabled = on;
}

/** Disables the controls that need hls.js (native playback). */
export function disablePlayerControls() {
  for (const el of document.querySelectorAll("#quality, input[name='mode']")) {
    /** @type {HTMLInputElement} */ (el).disabled = true;
  }
}

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const secs = (n) => (n === null || n === undefined || !Number.isFinite(n) ? "–" : `${n.toFixed(1)} s`);

/** @param {number} n */
const count = (n) => String(Math.round(n ?? 0));

/**
 * The stats rows in low-latency mode: the byte shares and P2P figures do
 * not apply; the delay is the receiver's playout delay (rtcstats.js), not
 * glass-to-glass latency.
 * @param {any} s snapshot with webrtc
 * @returns {string[][]}
 */
function lowLatencyRows(s) {
  const w = s.webrtc ?? {};
  const delay = w.framesDecoded ? `~${count(w.playoutDelayMs)} ms (jitter buffer ${count(w.jitterBufferMs)} ms + ½ RTT ${count(w.rttMs / 2)} ms; not glass-to-glass)` : "–";
  return [
    ["Mode", "low latency (WebRTC)"],
    ["Connection", String(w.state ?? "–")],
    ["Served by", w.server || "–"],
    ["From relay nodes", "—"],
    ["From viewers", "—"],
    ["From server (HTTP)", "—"],
    ["Peers connected", "—"],
    ["Resolution", w.width && w.height ? `${w.width}×${w.height}` : "–"],
    ["Playout delay", delay],
    ["Frames decoded", count(w.framesDecoded)],
    ["Freezes", count(w.freezeCount)],
    ["Packets lost", count(w.packetsLost)],
    ["NACKs sent", count(w.nackCount)],
    ["Stalls", `${s.stalls} (${secs(s.stallMs / 1000)})`],
    ["Segments verified", "not checked (WebRTC media comes straight from the server above)"],
    ["Shared with viewers", "—"],
  ];
}

/**
 * Renders a window.canopy.stats() snapshot.
 * @param {ReturnType<import("./player.js").P2PPlayer["snapshot"]>} s
 */
export function renderStats(s) {
  const dl = $("stats");
  if (s.mode === "lowlatency") {
    dl.replaceChildren(...lowLatencyRows(s).flatMap(([k, v]) => row(k, v)));
    return;
  }
  const share = shares(s.bytes);
  const relays = s.peers.filter((id) => id.startsWith("-CN")).length;
  const rows = [
    ["From relay nodes", s.p2p ? `${share.relay}%` : "–"],
    ["From viewers", s.p2p ? `${share.peer}%` : "–"],
    ["From server (HTTP)", s.p2p ? `${share.http}%` : "all (native playback)"],
    ["Received", s.p2p ? mb(share.total) : "–"],
    ["Peers connected", s.p2p ? `${s.peersConnected} (${relays} relay)` : "P2P off"],
    ["Rendition", s.rendition ?? "–"],
    ["Behind live", s.latency === null ? "–" : `${secs(s.latency)}${s.targetLatency ? ` (target ${secs(s.targetLatency)})` : ""}`],
    ["Stalls", `${s.stalls} (${secs(s.stallMs / 1000)})`],
    ["Segments verified", s.p2p ? `${s.verified} ok, ${s.rejected} rejected` : "not checked"],
    ["Peers dropped", String(s.droppedPeers.length)],
    ["Shared with viewers", s.uploadEnabled ? mb(s.uploaded) : "off"],
  ];
  dl.replaceChildren(...rows.flatMap(([k, v]) => row(k, v)));
}

/** @param {string} k @param {string} v */
function row(k, v) {
  const dt = document.createElement("dt");
  const dd = document.createElement("dd");
  dt.textContent = k;
  dd.textContent = v;
  return [dt, dd];
}
