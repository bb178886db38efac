package superpeer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// netnsEnv marks the re-executed test binary running inside its own
// network namespace.
const netnsEnv = "SUPERPEER_IN_NETNS"

// netnsAddr is the address of the namespace's veth: Chromium gathers no ICE
// candidates on loopback.
const netnsAddr = "10.213.0.1"

// TestChromiumInterop serves a real Chromium running the real
// p2p-media-loader-core 2.3.1 browser bundle (the one the web app ships):
// the page's Core joins the swarm through the tracker, connects to the
// super-peer over WebRTC and loads segments over P2P only (no HTTP slots),
// including one that appears after it joined. Both signalling directions
// are covered: the node answering the browser's offer, and the browser
// answering the node's. The test re-runs itself in a fresh network
// namespace with a veth, as Chromium needs.
func TestChromiumInterop(t *testing.T) {
	if os.Getenv(netnsEnv) != "1" {
		runInNetns(t)
		return
	}
	t.Run("browser offers", func(t *testing.T) { chromiumInterop(t, true) })
	t.Run("node offers", func(t *testing.T) { chromiumInterop(t, false) })
}

// chromiumInterop runs one page against one super-peer; nodeFirst starts
// the super-peer before the page joins (the page's offer reaches it),
// otherwise after (its own offer reaches the page).
func chromiumInterop(t *testing.T, nodeFirst bool) {
	bundle, err := filepath.Abs("../../web/node_modules/p2p-media-loader-core/dist/p2p-media-loader-core.es.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bundle); err != nil {
		t.Fatalf("p2p-media-loader-core bundle missing (npm ci --ignore-scripts in web/): %v", err)
	}
	ft := newFakeTracker(t, 120)
	src := newMemSource(StreamInfo{Stream: "demo", Broadcast: "b1", Renditions: demoStream.Renditions[:1]})
	for seq := uint64(10); seq <= 12; seq++ {
		src.add("demo", "720p", seq, segmentBytes(seq, 200_000))
	}
	startNode := func() *SuperPeer {
		sp, _ := startSuperPeerWith(t, src, []string{ft.url()}, func(sp *SuperPeer) {
			// Production ICE settings (startSuperPeerWith sets loopback
			// ones): host candidates on the veth, mDNS queries on.
			api, err := newAPI(ICE{})
			if err != nil {
				t.Fatal(err)
			}
			sp.api = api
		})
		return sp
	}
	var sp *SuperPeer
	if nodeFirst {
		sp = startNode()
	}

	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/core.js":
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, bundle)
		case "/favicon.ico":
			http.NotFound(w, r)
		case "/":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(interopPage))
		default:
			http.NotFound(w, r) // segments must never come over HTTP
			t.Errorf("page fetched %s over HTTP", r.URL.Path)
		}
	}))
	t.Cleanup(page.Close)

	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"))
	t.Cleanup(acancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { _ = chromedp.Cancel(ctx); cancel() })
	ctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(tcancel)

	q := "?swarm=" + SwarmID("demo", "b1") + "&tracker=" + ft.url()
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL+"/"+q)); err != nil {
		t.Fatal(err)
	}
	if !nodeFirst {
		h := hashOf(t, "demo", "b1", demoStream, 0)
		ft.waitFor(20*time.Second, "the page in the swarm", func() bool {
			for _, a := range ft.received {
				if a.InfoHash == h && strings.HasPrefix(a.PeerID, "-PM0203-") {
					return true
				}
			}
			return false
		})
		sp = startNode()
	}
	events := func() []map[string]any {
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__ev || []`))
		if err != nil {
			t.Fatalf("evaluate: %v", err)
		}
		out := make([]map[string]any, 0, len(raw))
		for _, s := range raw {
			var m map[string]any
			_ = json.Unmarshal([]byte(s), &m)
			out = append(out, m)
		}
		return out
	}
	waitLoaded := func(n int, data []byte) {
		t.Helper()
		want := sha256.Sum256(data)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(40 * time.Second)
		for {
			for _, e := range events() {
				switch {
				case e["ev"] == "loaded" && e["n"] == float64(n):
					if e["sha"] != hex.EncodeToString(want[:]) || e["bytes"] != float64(len(data)) {
						t.Fatalf("segment %d: page got %v", n, e)
					}
					return
				case e["ev"] == "error" && e["n"] == float64(n):
					t.Fatalf("segment %d failed in the page: %v", n, e)
				}
			}
			select {
			case <-deadline:
				logs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__log || []`))
				ft.mu.Lock()
				seen := ft.received
				ft.mu.Unlock()
				t.Fatalf("segment %d not loaded; events %v\ntracker saw %+v\npage log:\n%s", n, events(), seen, strings.Join(logs, "\n"))
			case <-tick.C:
			}
		}
	}
	waitLoaded(11, segmentBytes(11, 200_000))

	// The live edge: a segment held after the page joined is announced and
	// loaded over P2P too.
	src.add("demo", "720p", 13, segmentBytes(13, 70_000))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.load(13), true`)); err != nil {
		t.Fatal(err)
	}
	waitLoaded(13, segmentBytes(13, 70_000))

	var index, peer string
	var validated int
	for _, e := range events() {
		switch e["ev"] {
		case "index":
			index, _ = e["index"].(string)
		case "peer":
			peer, _ = e["id"].(string)
		case "validate":
			validated++
		}
	}
	want, _ := StreamSwarmID("demo", "b1", rend720)
	if !strings.HasSuffix(want, "-main-"+index) || peer != sp.PeerID() || validated < 2 {
		t.Fatalf("page index %q (swarm %q), peer %q (node %q), %d validations", index, want, peer, sp.PeerID(), validated)
	}
	// Who answered whom: the node answers the page's offer, or the page
	// answers the node's.
	ft.mu.Lock()
	var nodeAnswers, pageAnswers int
	for _, a := range ft.received {
		switch {
		case a.Answer && a.PeerID == sp.PeerID():
			nodeAnswers++
		case a.Answer && strings.HasPrefix(a.PeerID, "-PM0203-"):
			pageAnswers++
		}
	}
	ft.mu.Unlock()
	if (nodeFirst && nodeAnswers != 1) || (!nodeFirst && (pageAnswers != 1 || nodeAnswers != 0)) {
		t.Fatalf("answers through the tracker: node %d, page %d", nodeAnswers, pageAnswers)
	}
	// The page also prefetches the other announced segments over P2P.
	if st := sp.Stats(); st.SegmentsServed < 2 || st.PeersConnected != 1 || st.Malformed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// runInNetns re-runs this test inside `unshare -n` with a veth carrying
// netnsAddr and a default route, and reports its output.
func runInNetns(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("unshare is needed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	script := "ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add " + netnsAddr +
		"/24 dev v0 && ip link set v0 up && ip link set v1 up && ip route add default via 10.213.0.2 dev v0 && " +
		`exec "$0" -test.run '^TestChromiumInterop$' -test.v -test.timeout 2m`
	cmd := exec.CommandContext(ctx, "unshare", "-n", "sh", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("namespaced run failed: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: TestChromiumInterop") {
		t.Fatal("namespaced run did not pass TestChromiumInterop")
	}
}

// interopPage drives p2p-media-loader-core as p2p-media-loader-hlsjs would
// for a live stream with the 720p rendition, with HTTP loading disabled.
const interopPage = `<!doctype html><meta charset="utf-8"><title>superpeer interop</title>
<script type="module">
window.__ev = []; window.__log = [];
for (const k of ["log", "debug", "warn", "error"]) {
  const orig = console[k].bind(console);
  console[k] = (...a) => { if (window.__log.length < 2000) window.__log.push(a.map(String).join(" ")); orig(...a); };
}
const push = (o) => window.__ev.push(JSON.stringify(o));
try {
  const { Core, generateStreamShortId, debug } = await import("/core.js");
  debug.enable("p2pml-core:*");
  const q = new URLSearchParams(location.search);
  const sha = async (buf) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", buf)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const core = new Core({
    swarmId: q.get("swarm"),
    announceTrackers: [q.get("tracker")],
    rtcConfig: { iceServers: [] },
    simultaneousHttpDownloads: 0,
    validateP2PSegment: async (url, range, data) => { push({ ev: "validate", url, n: data.byteLength }); return true; },
  });
  core.addEventListener("onPeerConnect", (p) => push({ ev: "peer", id: p.peerId }));
  core.addEventListener("onTrackerError", (e) => push({ ev: "trackerError", msg: String(e.error) }));
  core.addEventListener("onTrackerWarning", (e) => push({ ev: "trackerWarning", msg: String(e.warning) }));
  // What p2p-media-loader-hlsjs computes from hls.js's level for
  // BANDWIDTH=3000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000
  const index = generateStreamShortId({ bitrate: 3000000, codecs: "avc1.64001f", width: 1280, height: 720, frameRate: "25.000" });
  push({ ev: "index", index });
  core.setManifestResponseUrl(location.origin + "/live/demo/master.m3u8");
  core.setIsLive(true);
  core.addStreamIfNoneExists({ runtimeId: "720p", type: "main", index });
  const seg = (n) => ({ runtimeId: "seg-" + n, externalId: n, url: location.origin + "/live/demo/720p/" + n + ".m4s",
    startTime: (n - 10) * 2, endTime: (n - 9) * 2 });
  core.updateStream("720p", [seg(10), seg(11), seg(12)]);
  window.load = (n) => {
    if (!core.getStream("720p").segments.has("seg-" + n)) core.updateStream("720p", [seg(n)]);
    core.loadSegment("seg-" + n, {
      onSuccess: async (r) => push({ ev: "loaded", n, bytes: r.data.byteLength, sha: await sha(r.data) }),
      onError: (e) => push({ ev: "error", n, type: e.type }),
    });
  };
  window.load(11);
} catch (e) {
  push({ ev: "error", n: -1, type: String(e) });
}
</script>`
