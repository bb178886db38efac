package webtorrent

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// offerReceivers announces with n offers from c and returns which of the
// candidates got one.
func offerReceivers(t *testing.T, c *client, hash, id string, n int, candidates map[string]*client) map[string]bool {
	t.Helper()
	c.announce(hash, id, n, offers(n, id), "")
	got := map[string]bool{}
	for name, p := range candidates {
		if tryOffer(t, p, hash) {
			got[name] = true
		}
	}
	return got
}

func TestStoppedAndDisconnectRemovePeers(t *testing.T) {
	tt := startTracker(t, Params{})
	a, b, c := dial(t, tt, nil), dial(t, tt, nil), dial(t, tt, nil)
	hash := id20("swarm-leave")
	other := id20("swarm-other")
	a.announce(hash, id20("A"), 5, nil, "started")
	b.announce(hash, id20("B"), 5, nil, "started")
	b.announce(other, id20("B"), 5, nil, "started")
	if r := c.announce(hash, id20("C"), 5, nil, "started"); r["incomplete"] != 3.0 {
		t.Fatalf("reply = %v", r)
	}

	r := b.announce(hash, id20("B"), 5, nil, "stopped")
	if r["incomplete"] != 2.0 {
		t.Fatalf("stopped reply = %v, want incomplete 2", r)
	}
	got := offerReceivers(t, a, hash, id20("A"), 5, map[string]*client{"b": b, "c": c})
	if !reflect.DeepEqual(got, map[string]bool{"c": true}) {
		t.Fatalf("after B stopped, offers went to %v", got)
	}
	if st := tt.Stats(); st.Peers != 3 || st.Swarms != 2 {
		t.Fatalf("stats after stop = %+v (B is still in the other swarm)", st)
	}

	_ = b.ws.Close(websocket.StatusNormalClosure, "")
	_ = c.ws.CloseNow()
	tt.waitClosed(t, 2)
	if st := tt.Stats(); st.Peers != 1 || st.Swarms != 1 || st.Connections != 1 {
		t.Fatalf("stats after disconnects = %+v", st)
	}
	got = offerReceivers(t, a, hash, id20("A"), 5, nil)
	if len(got) != 0 {
		t.Fatalf("offers to departed peers: %v", got)
	}
}

func TestSilentPeersTimeOut(t *testing.T) {
	clock := newFakeClock()
	tt := startTracker(t, Params{Clock: clock.Now, PeerTimeout: time.Minute})
	a, b := dial(t, tt, nil), dial(t, tt, nil)
	hash := id20("swarm-timeout")
	a.announce(hash, id20("A"), 5, nil, "started")
	b.announce(hash, id20("B"), 5, nil, "started")
	clock.Advance(40 * time.Second)
	a.announce(hash, id20("A"), 5, nil, "") // a keeps announcing, b is silent
	clock.Advance(30 * time.Second)
	if n := tt.reg.sweep(clock.Now()); n != 1 {
		t.Fatalf("sweep dropped %d, want 1", n)
	}
	a.send(map[string]any{"action": "scrape", "info_hash": hash})
	files := a.recv()["files"].(map[string]any)
	if got := files[hash].(map[string]any)["incomplete"]; got != 1.0 {
		t.Fatalf("incomplete after sweep = %v, want 1", got)
	}
	b.sync(hash) // b's socket stays open; it may announce again
	if r := b.announce(hash, id20("B"), 5, nil, ""); r["incomplete"] != 2.0 {
		t.Fatalf("b rejoining: %v", r)
	}
}

func TestScrape(t *testing.T) {
	tt := startTracker(t, Params{})
	a, b := dial(t, tt, nil), dial(t, tt, nil)
	h1, h2, unknown := id20("scrape-one"), binaryString(0x90), id20("scrape-unknown")
	a.announce(h1, id20("A"), 5, nil, "started")
	b.announce(h1, id20("B"), 5, nil, "started")
	b.announce(h1, id20("B"), 5, nil, "completed")
	a.announce(h2, id20("A"), 5, nil, "started")

	tests := []struct {
		name  string
		query any
		want  map[string]any
	}{
		{"single string", h1, map[string]any{h1: stat(1, 1, 1)}},
		{"list", []string{h1, h2, unknown}, map[string]any{h1: stat(1, 1, 1), h2: stat(0, 1, 0), unknown: stat(0, 0, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a.send(map[string]any{"action": "scrape", "info_hash": tc.query})
			r := a.recv()
			if r["action"] != "scrape" || !reflect.DeepEqual(r["files"], tc.want) {
				t.Fatalf("scrape = %v, want files %v", r, tc.want)
			}
			if f := r["flags"].(map[string]any); f["min_request_interval"] != 120.0 {
				t.Fatalf("flags = %v", f)
			}
		})
	}
}

func stat(complete, incomplete, downloaded float64) map[string]any {
	return map[string]any{"complete": complete, "incomplete": incomplete, "downloaded": downloaded}
}

func TestStatsHandler(t *testing.T) {
	tt := startTracker(t, Params{RelayAuth: testRelayAuth, TrustForwardedFor: true})
	relay := dialFrom(t, tt, "10.0.0.1", true)
	a := dialFrom(t, tt, "10.0.1.1", false)
	hash := id20("swarm-stats")
	relay.announce(hash, id20("-CN0100-"), 5, nil, "started")
	a.announce(hash, id20("-PM0203-"), 5, offers(1, "x"), "started")
	if m := relay.recv(); m["offer"] == nil {
		t.Fatalf("relay got %v", m)
	}
	a.sendRaw([]byte("{nope"))
	a.recv()

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tt.http+"/tracker/stats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer http.DefaultClient.CloseIdleConnections()
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	want := Stats{Connections: 2, Swarms: 1, Peers: 2, Relays: 1, Browsers: 1,
		PerSwarm: []SwarmStats{{InfoHash: hash, InfoHashHex: binIDOf(hash).Hex(), Peers: 2,
			Relays: 1, Browsers: 1, Incomplete: 2}},
		Totals: Totals{Announces: 2, OffersRelayed: 1, Errors: 1}}
	if resp.Header.Get("Content-Type") != "application/json" || !reflect.DeepEqual(st, want) {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
}

func binIDOf(s string) binID {
	var id binID
	copy(id[:], s)
	return id
}

func TestOriginAllowList(t *testing.T) {
	tt := startTracker(t, Params{AllowedOrigins: []string{"https://canopy.example"}})
	tests := []struct {
		origin string
		ok     bool
	}{
		{"https://canopy.example", true},
		{"HTTPS://Canopy.Example/", true},
		{"", true}, // not a browser (relay nodes)
		{"https://evil.example", false},
		{"http://canopy.example", false},
	}
	for _, tc := range tests {
		t.Run(tc.origin, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			c, err := tryDial(t, tt, h)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				c.announce(id20("o"), id20("p"), 1, nil, "started")
				return
			}
			if err == nil || !strings.Contains(err.Error(), "status 403") {
				t.Fatalf("err = %v, want status 403", err)
			}
		})
	}
}

func TestCloseClosesSockets(t *testing.T) {
	s, err := New(Params{})
	if err != nil {
		t.Fatal(err)
	}
	tt := &testTracker{Server: s, closed: make(chan struct{}, 16)}
	hs := newHTTPServer(t, s, tt)
	defer hs.Close()
	a, b := dial(t, tt, nil), dial(t, tt, nil)
	a.announce(id20("c"), id20("a"), 1, nil, "started")
	b.announce(id20("c"), id20("b"), 1, nil, "started")
	closed := make(chan websocket.CloseError, 2)
	go func() { closed <- a.expectCloseQuiet() }()
	go func() { closed <- b.expectCloseQuiet() }()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if ce := <-closed; ce.Code != websocket.StatusGoingAway {
			t.Fatalf("close = %v, want 1001", ce)
		}
	}
	if st := s.Stats(); st.Connections != 0 || st.Peers != 0 {
		t.Fatalf("after Close: %+v", st)
	}
	if _, err := tryDial(t, tt, nil); err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("dial after Close: %v, want 503", err)
	}
}

func TestSilentSocketIsClosed(t *testing.T) {
	tt := startTracker(t, Params{PeerTimeout: 300 * time.Millisecond})
	silent := dial(t, tt, nil)
	hash := id20("swarm-idle")
	start := time.Now()
	silent.announce(hash, id20("S"), 5, nil, "started")
	tt.waitClosed(t, 1)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the timeout", d)
	}
	if ce := silent.expectCloseQuiet(); ce.Code == websocket.StatusNormalClosure {
		t.Fatalf("silent socket: %v", ce)
	}
	if st := tt.Stats(); st.Connections != 0 || st.Peers != 0 || st.Swarms != 0 {
		t.Fatalf("stats = %+v, want nothing left", st)
	}
}

func TestPlainHTTPIsRefused(t *testing.T) {
	tt := startTracker(t, Params{AllowedOrigins: []string{"https://canopy.example"}})
	tests := []struct {
		origin string
		want   int
	}{
		{"", http.StatusUpgradeRequired},
		{"https://evil.example", http.StatusForbidden},
	}
	for _, tc := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tt.http+"/tracker", nil)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("origin %q: status %d, want %d", tc.origin, resp.StatusCode, tc.want)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
