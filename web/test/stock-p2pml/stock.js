// A minimal page that uses stock p2p-media-loader 2.x with hls.js, nothing
// of Canopy's app: it shows that any p2p-media-loader player works with
// Canopy's tracker. cmd/canopy's browser test bundles it with esbuild and
// opens it as ?src=<master playlist>&tracker=<ws URL of /tracker>.
import Hls from "hls.js";
import { HlsJsP2PEngine } from "p2p-media-loader-hlsjs";

const params = new URLSearchParams(location.search);
const bytes = { http: 0, p2p: 0 };
const peers = new Set();
window.stock = { bytes, peers: () => [...peers], currentTime: () => video.currentTime };

const video = document.getElementById("video");
const HlsWithP2P = HlsJsP2PEngine.injectMixin(Hls);
const hls = new HlsWithP2P({
  liveSyncDurationCount: 4,
  p2p: {
    core: {
      announceTrackers: [params.get("tracker")],
      // Documented p2p-media-loader options: only the next 2 s are urgent
      // enough for HTTP, so the rest is asked of peers first.
      highDemandTimeWindow: 2,
      simultaneousHttpDownloads: 1,
    },
    onHlsJsCreated(h) {
      h.p2pEngine.addEventListener("onChunkDownloaded", (n, source) => {
        bytes[source === "p2p" ? "p2p" : "http"] += n;
      });
      h.p2pEngine.addEventListener("onPeerConnect", (p) => peers.add(p.peerId));
    },
  },
});
hls.attachMedia(video);
hls.loadSource(params.get("src"));
video.muted = true;
video.play().catch(() => {});
