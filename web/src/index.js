// Entry point of /: the list of live streams, refreshed every few seconds.
import { listStreams } from "./api.js";

const REFRESH_MS = 5000;

/** @param {import("./api.js").StreamInfo} s */
function item(s) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = `/watch/${encodeURIComponent(s.id)}`;
  const name = document.createElement("strong");
  name.textContent = s.id;
  const meta = document.createElement("span");
  meta.className = "meta";
  const rungs = (s.renditions ?? []).map((r) => r.name).join(" · ");
  const viewers = `${s.viewers ?? 0} watching`;
  meta.textContent = [s.hls ? "live" : "starting", rungs, viewers].filter(Boolean).join(" — ");
  a.append(name, meta);
  li.append(a);
  return li;
}

async function refresh() {
  const list = document.getElementById("streams");
  const empty = document.getElementById("empty");
  const status = document.getElementById("status");
  try {
    const live = (await listStreams()).filter((s) => s.live);
    list.replaceChildren(...live.map(item));
    empty.hidden = live.length > 0;
    status.textContent = "";
  } catch (err) {
    status.textContent = `Cannot reach the server (${err.message}); retrying…`;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
