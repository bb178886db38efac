//go:build e2e

package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stockBundle bundles web/test/stock-p2pml (stock p2p-media-loader and
// hls.js, none of Canopy's app) with the esbuild that `make web` installs,
// and serves it from a test server on 127.0.0.1.
func stockBundle(t *testing.T) string {
	t.Helper()
	webDir, err := filepath.Abs("../../web")
	if err != nil {
		t.Fatal(err)
	}
	esbuild := filepath.Join(webDir, "node_modules", ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		t.Fatalf("needs web/node_modules (run `make web`): %v", err)
	}
	out := t.TempDir()
	cmd := exec.Command(esbuild, "test/stock-p2pml/stock.js", "--bundle", "--format=esm",
		"--conditions=p2pml:core-as-bundle", `--define:process.env.NODE_ENV="production"`,
		"--outfile="+filepath.Join(out, "stock.js"), "--log-level=warning")
	cmd.Dir = webDir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, b)
	}
	html, err := os.ReadFile(filepath.Join(webDir, "test", "stock-p2pml", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "index.html"), html, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	t.Cleanup(srv.Close)
	return srv.URL
}

type stockStats struct {
	Bytes struct {
		HTTP float64 `json:"http"`
		P2P  float64 `json:"p2p"`
	} `json:"bytes"`
	Peers       []string `json:"peers"`
	CurrentTime float64  `json:"currentTime"`
}

// TestStockP2PMLPages is the browser viewers' acceptance point 2: two
// Chromium pages running stock p2p-media-loader 2.x with hls.js, pointed
// at Canopy's tracker, exchange segments peer to peer. The swarm is keyed
// by the manifest URL (p2p-media-loader's default), which Canopy's relay
// nodes do not join: the bytes come from the other page.
func TestStockP2PMLPages(t *testing.T) {
	if !inBrowserNetns(t) {
		return
	}
	env := startDev(t, "--demo-size", "640x360")
	stock := stockBundle(t)
	tracker := "ws" + strings.TrimPrefix(env.base, "http") + "/tracker"
	url := stock + "/index.html?src=" + env.base + "/live/demo/master.m3u8&tracker=" + tracker
	browser := newBrowser(t)
	a := openPage(t, browser, "stock1", url)
	// The second page comes later, so the first holds what it will need.
	time.Sleep(8 * time.Second) // staggering the viewers, not synchronising
	b := openPage(t, browser, "stock2", url)

	read := func(p *page) stockStats {
		s, err := eval[stockStats](p, `({bytes: window.stock.bytes, peers: window.stock.peers(), currentTime: window.stock.currentTime()})`)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		return s
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		sa, sb := read(a), read(b)
		if sa.Bytes.P2P+sb.Bytes.P2P > 100<<10 && sa.CurrentTime > 4 && sb.CurrentTime > 4 {
			t.Logf("stock1: played %.1fs, P2P %.0f KiB, HTTP %.0f KiB, peers %v", sa.CurrentTime, sa.Bytes.P2P/1024, sa.Bytes.HTTP/1024, sa.Peers)
			t.Logf("stock2: played %.1fs, P2P %.0f KiB, HTTP %.0f KiB, peers %v", sb.CurrentTime, sb.Bytes.P2P/1024, sb.Bytes.HTTP/1024, sb.Peers)
			for _, id := range append(sa.Peers, sb.Peers...) {
				if strings.HasPrefix(id, "-CN") {
					t.Errorf("a relay node (%s) joined the stock swarm; the bytes must come from the other page", id)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no segment exchanged peer to peer within 60s: stock1 %+v, stock2 %+v", sa, sb)
		}
		time.Sleep(time.Second) // polling the pages' counters
	}
}

// TestCorruptViewerIsDropped is the browser viewers' acceptance point 3:
// a viewer whose page corrupts what it uploads (the ?corrupt=1 test hook)
// serves another page, which never plays the bad bytes (its verifier
// rejects them against the origin's signed record), drops that peer and
// keeps playing. Relay nodes stay out of the browser swarms here
// (--browser-relays=false), so the honest page has to ask the corrupt one.
func TestCorruptViewerIsDropped(t *testing.T) {
	if !inBrowserNetns(t) {
		return
	}
	env := startDev(t, "--demo-size", "640x360", "--browser-relays=false")
	browser := newBrowser(t)
	bad := openPage(t, browser, "corrupt", env.base+"/watch/demo?corrupt=1")
	time.Sleep(8 * time.Second) // staggering the viewers, not synchronising
	good := openPage(t, browser, "honest", env.base+"/watch/demo")

	deadline := time.Now().Add(75 * time.Second)
	var rejectedAt float64
	for {
		sb, err := bad.stats()
		if err != nil {
			t.Fatal(err)
		}
		sg, err := good.stats()
		if err != nil {
			t.Fatal(err)
		}
		if rejectedAt == 0 && sg.Rejected > 0 {
			rejectedAt = sg.CurrentTime
			t.Logf("honest page rejected %d segment(s) at %.1fs; dropped peers %v; the corrupt page altered %d uploads",
				sg.Rejected, sg.CurrentTime, sg.DroppedPeers, sb.CorruptedUploads)
			if sb.CorruptedUploads == 0 {
				t.Errorf("the honest page rejected a segment the corrupt page never altered")
			}
		}
		// It keeps playing well past the rejection.
		if rejectedAt > 0 && sg.CurrentTime > rejectedAt+10 {
			t.Logf("honest page: played %.1fs, verified %d, rejected %d, dropped %v", sg.CurrentTime, sg.Verified, sg.Rejected, sg.DroppedPeers)
			if len(sg.DroppedPeers) == 0 {
				t.Errorf("the honest page rejected segments but dropped no peer")
			}
			if sg.Rejected > sb.CorruptedUploads {
				t.Errorf("rejected %d segments, more than the %d the corrupt page altered", sg.Rejected, sb.CorruptedUploads)
			}
			return
		}
		if time.Now().After(deadline) {
			good.diagnose(t)
			bad.diagnose(t)
			t.Fatalf("honest page: rejected %d, played %.1fs (rejected at %.1fs)", sg.Rejected, sg.CurrentTime, rejectedAt)
		}
		time.Sleep(time.Second) // polling the pages' counters
	}
}
