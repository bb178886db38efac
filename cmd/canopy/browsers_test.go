package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/canopylive/canopy/internal/config"
)

// The origin's /tracker proxy carries a browser's WebSocket to the
// tracker and back: an announce through it gets the tracker's reply.
func TestTrackerProxy(t *testing.T) {
	wt, err := newBrowserTracker(config.Tracker{TrustForwardedFor: true}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wt.Close() })
	tracker := httptest.NewServer(wt)
	t.Cleanup(tracker.Close)
	proxy, err := trackerProxy(tracker.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /tracker", proxy)
	origin := httptest.NewServer(mux)
	t.Cleanup(origin.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(origin.URL, "http")+"/tracker", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	announce := `{"action":"announce","info_hash":"AAAAAAAAAAAAAAAAAAAA","peer_id":"-PM0203-abcdefghijkl","numwant":5,"event":"started","offers":[]}`
	if err := c.Write(ctx, websocket.MessageText, []byte(announce)); err != nil {
		t.Fatal(err)
	}
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		Action   string `json:"action"`
		Interval int    `json:"interval"`
		InfoHash string `json:"info_hash"`
	}
	if err := json.Unmarshal(b, &reply); err != nil || reply.Action != "announce" || reply.Interval <= 0 || reply.InfoHash != "AAAAAAAAAAAAAAAAAAAA" {
		t.Fatalf("reply %s (%v)", b, err)
	}
	if s := wt.Stats(); s.Peers != 1 {
		t.Fatalf("tracker sees %d peers, want 1", s.Peers)
	}
}

func TestTrackerProxyRejectsBadURL(t *testing.T) {
	if _, err := trackerProxy("not a url"); err == nil {
		t.Fatal("trackerProxy accepted a URL without a host")
	}
}
