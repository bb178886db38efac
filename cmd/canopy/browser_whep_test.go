//go:build e2e

package main

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// webrtcStats is the low-latency part of window.canopy.stats().
type webrtcStats struct {
	Mode        string  `json:"mode"`
	CurrentTime float64 `json:"currentTime"`
	WebRTC      struct {
		State          string  `json:"state"`
		Server         string  `json:"server"`
		FramesDecoded  float64 `json:"framesDecoded"`
		FreezeCount    float64 `json:"freezeCount"`
		PacketsLost    float64 `json:"packetsLost"`
		NackCount      float64 `json:"nackCount"`
		JitterBufferMs float64 `json:"jitterBufferMs"`
		Width          float64 `json:"width"`
		Height         float64 `json:"height"`
	} `json:"webrtc"`
}

// TestBrowserWHEP is the low-latency issue's acceptance point 2: real
// headless Chromium plays the demo stream over WHEP in canopy dev. The page
// is the origin's; its offer is redirected to the relay node the tracker
// picks (origin → relay → browser). The video's currentTime advances,
// getStats shows frames decoded, and freezes stay few.
func TestBrowserWHEP(t *testing.T) {
	if !inBrowserNetns(t) {
		return
	}
	env := startDev(t, "--demo-size", "854x480", "--low-latency")
	// The relays join the tree and the tracker hears their WHEP URLs.
	waitUntil(t, 30*time.Second, "a relay is offered for low-latency viewers", func() bool {
		resp, err := http.Get(env.tracker + "/tracker/whep/" + devStream)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	browser := newBrowser(t)
	p := openPage(t, browser, "whep", env.base+"/watch/demo")
	defer func() {
		if t.Failed() {
			p.diagnose(t)
		}
	}()
	waitUntil(t, 30*time.Second, "the player is up", func() bool {
		ok, err := eval[bool](p, `!!(window.canopy && window.canopy.setMode)`)
		return err == nil && ok
	})
	if _, err := eval[any](p, `window.canopy.setMode("lowlatency")`); err != nil {
		t.Fatal(err)
	}
	read := func() webrtcStats {
		s, err := eval[webrtcStats](p, `window.canopy.stats()`)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitUntil(t, 20*time.Second, "frames decoded over WebRTC", func() bool {
		s := read()
		return s.Mode == "lowlatency" && s.WebRTC.FramesDecoded > 30
	})
	first := read()
	if !slices.Contains(env.relays, first.WebRTC.Server) {
		t.Errorf("WHEP session on %q, want one of the relays %v (the origin's page, redirected by the tracker's pick)",
			first.WebRTC.Server, env.relays)
	}
	if n := metric(t, env.base+"/metrics", "canopy_whep_offers_routed_total", `to="relay"`); n < 1 {
		t.Errorf("origin routed %v offers to relays", n)
	}
	const watch = 15 * time.Second
	time.Sleep(watch) // watching, not synchronisation
	last := read()
	decoded := last.WebRTC.FramesDecoded - first.WebRTC.FramesDecoded
	played := last.CurrentTime - first.CurrentTime
	freezes := last.WebRTC.FreezeCount - first.WebRTC.FreezeCount
	t.Logf("served by %s; over %v: %.0f frames decoded (%.0fx%.0f), currentTime +%.1f s, freezes %.0f, packets lost %.0f, NACKs %.0f, jitter buffer %.0f ms, state %s",
		first.WebRTC.Server, watch, decoded, last.WebRTC.Width, last.WebRTC.Height, played, freezes, last.WebRTC.PacketsLost, last.WebRTC.NackCount,
		last.WebRTC.JitterBufferMs, last.WebRTC.State)
	if decoded < 0.8*30*watch.Seconds() {
		t.Errorf("decoded %.0f frames in %v, want ≥ 80%% of 30 fps", decoded, watch)
	}
	if played < 0.8*watch.Seconds() {
		t.Errorf("currentTime advanced %.1f s in %v", played, watch)
	}
	if freezes > 3 {
		t.Errorf("%.0f freezes in %v", freezes, watch)
	}
}
