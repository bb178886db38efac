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
 * @param {"normal"|"fast"} mode
 * @param {(mode: "normal"|"fast") => void} onChange
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

/** Disables the controls that need hls.js (native playback). */
export function disablePlayerControls() {
  for (const el of document.querySelectorAll("#quality, input[name='mode']")) {
    /** @type {HTMLInputElement} */ (el).disabled = true;
  }
}

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const secs = (n) => (n === null || n === undefined || !Number.isFinite(n) ? "–" : `${n.toFixed(1)} s`);

/**
 * Renders a window.canopy.stats() snapshot.
 * @param {ReturnType<import("./watch.js").snapshot>} s
 */
export function renderStats(s) {
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
  const dl = $("stats");
  dl.replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = k;
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}
