//go:build e2e

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	viewerPages   = 6
	watchDuration = 60 * time.Second
	// maxStall is the longest a page may stop advancing after start-up;
	// stallSlack is the sampling granularity added to it.
	maxStall   = 2 * time.Second
	sampleStep = 500 * time.Millisecond
	minP2P     = 0.80
)

// pageWatch follows one page's playback from the samples taken of it.
type pageWatch struct {
	p           *page
	started     time.Time // first sample with currentTime advancing
	lastTime    float64
	lastAdvance time.Time
	longest     time.Duration // longest gap between advances after start-up
	last        playerStats
}

func (w *pageWatch) sample(now time.Time) error {
	s, err := w.p.stats()
	if err != nil {
		return err
	}
	w.last = s
	if s.CurrentTime > w.lastTime {
		if !w.started.IsZero() {
			w.longest = max(w.longest, now.Sub(w.lastAdvance))
		} else if w.lastTime > 0 {
			w.started = now
		}
		w.lastTime, w.lastAdvance = s.CurrentTime, now
	}
	return nil
}

// TestBrowserViewers is the browser viewers' acceptance points 1 and 5:
// real headless Chromium, six viewer pages on `canopy dev`'s demo stream
// for 60 s. Every page plays without a stall over 2 s after start-up, and
// relay nodes plus other viewers deliver at least 80 % of the segment
// bytes, by the pages' own counters and by the origin's egress counter.
// Screenshots of the watch page at desktop and phone widths are saved,
// with the video, stats panel and quality menu checked visible.
func TestBrowserViewers(t *testing.T) {
	if !inBrowserNetns(t) {
		return
	}
	// 854x480 keeps six software decoders, the demo's encoder and the
	// ladder (480p passed through, 144p transcoded) within two cores.
	env := startDev(t, "--demo-size", "854x480")
	metricsURL := env.base + "/metrics"
	browser := newBrowser(t)

	pages := make([]*pageWatch, viewerPages)
	for i := range pages {
		pages[i] = &pageWatch{p: openPage(t, browser, fmt.Sprintf("viewer%d", i+1), env.base+"/watch/demo")}
	}
	// Start-up: every page plays.
	startBy := time.Now().Add(45 * time.Second)
	for {
		all := true
		now := time.Now()
		for _, w := range pages {
			if err := w.sample(now); err != nil || w.started.IsZero() {
				all = false
			}
		}
		if all {
			break
		}
		if now.After(startBy) {
			for _, w := range pages {
				w.p.diagnose(t)
			}
			t.Fatal("not every page started playing within 45s")
		}
		time.Sleep(sampleStep) // polling the pages' state
	}
	egress0 := metric(t, metricsURL, "canopy_http_response_bytes_total", `route="segment"`)
	base := make([]playerStats, len(pages))
	for i, w := range pages {
		base[i] = w.last
		w.longest = 0
	}

	tick := time.NewTicker(sampleStep)
	defer tick.Stop()
	end := time.Now().Add(watchDuration)
	for now := range tick.C {
		for _, w := range pages {
			if err := w.sample(now); err != nil {
				t.Fatalf("%s: stats: %v", w.p.name, err)
			}
		}
		if now.After(end) {
			break
		}
	}
	egress := metric(t, metricsURL, "canopy_http_response_bytes_total", `route="segment"`) - egress0

	var relay, peer, httpBytes float64
	for i, w := range pages {
		s, b := w.last, base[i]
		dr, dp, dh := s.Bytes.Relay-b.Bytes.Relay, s.Bytes.Peer-b.Bytes.Peer, s.Bytes.HTTP-b.Bytes.HTTP
		relay, peer, httpBytes = relay+dr, peer+dp, httpBytes+dh
		t.Logf("%s: played %.1fs, longest stall %v, rendition %s, latency %.1fs, peers %d, bytes relay %.0f KiB viewers %.0f KiB http %.0f KiB, verified %d rejected %d",
			w.p.name, s.CurrentTime-b.CurrentTime, w.longest.Round(100*time.Millisecond), s.Rendition, s.Latency,
			s.PeersConnected, dr/1024, dp/1024, dh/1024, s.Verified, s.Rejected)
		if played := s.CurrentTime - b.CurrentTime; played < watchDuration.Seconds()*0.9 {
			t.Errorf("%s played %.1fs of %v", w.p.name, played, watchDuration)
		}
		if w.longest > maxStall+sampleStep {
			t.Errorf("%s stalled for %v after start-up (limit %v, sampled every %v)", w.p.name, w.longest, maxStall, sampleStep)
		}
		if s.Rejected != 0 {
			t.Errorf("%s rejected %d segments from an honest swarm", w.p.name, s.Rejected)
		}
	}
	total := relay + peer + httpBytes
	if total == 0 {
		t.Fatal("the pages counted no segment bytes")
	}
	share := (relay + peer) / total
	originShare := 1 - egress/total
	t.Logf("segment bytes over %v on %d pages: relay nodes %.1f MiB, viewers %.1f MiB, HTTP %.1f MiB: P2P share %.1f%%; origin segment egress %.1f MiB: P2P share by the origin's counter %.1f%%",
		watchDuration, len(pages), relay/(1<<20), peer/(1<<20), httpBytes/(1<<20), 100*share, egress/(1<<20), 100*originShare)
	if share < minP2P {
		t.Errorf("P2P share %.1f%% by the pages' counters, want ≥ %.0f%%", 100*share, 100*minP2P)
	}
	if originShare < minP2P {
		t.Errorf("P2P share %.1f%% by the origin's egress counter, want ≥ %.0f%%", 100*originShare, 100*minP2P)
	}
	// The pages' HTTP counters must account for what the origin sent
	// (init segments and manifests aside, which are not counted there).
	if egress > httpBytes*1.1+2<<20 {
		t.Errorf("origin sent %.1f MiB of segments but the pages counted %.1f MiB over HTTP", egress/(1<<20), httpBytes/(1<<20))
	}
	// The six tabs share one chat event feed (web/src/sharedfeed.js): six
	// feeds would hold all six HTTP/1.1 connections the browser allows per
	// host and starve the playlists.
	if feeds := metric(t, env.base+"/metrics", "canopy_chat_subscribers"); feeds != 1 {
		t.Errorf("the origin has %v chat event feeds open for %d tabs of one browser, want 1", feeds, len(pages))
	}
	checkScreenshots(t, pages[0].p)
}

// checkScreenshots saves the watch page at desktop and phone widths and
// checks that the video, the stats panel and the quality menu are laid out
// inside the viewport (a screenshot alone proves nothing to a test).
func checkScreenshots(t *testing.T, p *page) {
	dir := screenshotDir(t)
	for _, v := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 800}, {"phone", 375, 812}} {
		path := p.screenshot(t, dir, "watch-"+v.name+".png", v.width, v.height)
		vis, err := eval[map[string]bool](p, `(() => {
			const seen = (sel) => {
				const el = document.querySelector(sel);
				if (!el) return false;
				const r = el.getBoundingClientRect();
				return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
			};
			return {video: seen("#video"), stats: seen("#stats"), quality: seen("#quality"),
				fits: document.documentElement.scrollWidth <= window.innerWidth + 1};
		})()`)
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, k := range []string{"video", "stats", "quality", "fits"} {
			if !vis[k] {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s layout (%dx%d): not visible or overflowing: %s", v.name, v.width, v.height, strings.Join(missing, ", "))
		}
		t.Logf("screenshot %s: %s", v.name, path)
	}
}
