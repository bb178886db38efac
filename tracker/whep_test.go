package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestValidWHEPURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"http://192.0.2.7:8090", "http://192.0.2.7:8090", true},
		{"https://relay.example.org/", "https://relay.example.org", true},
		{"ftp://relay.example.org", "", false},
		{"https://user:pw@relay.example.org", "", false},
		{"https://relay.example.org/evil", "", false},
		{"https://relay.example.org?x=1", "", false},
		{"https://relay.example.org#f", "", false},
		{"javascript:alert(1)", "", false},
		{"relay.example.org", "", false},
		{"http://" + string(make([]byte, 600)), "", false},
	} {
		got, err := validWHEPURL(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("validWHEPURL(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadHello) {
			t.Errorf("validWHEPURL(%q): error %v is not ErrBadHello", tc.in, err)
		}
	}
}

func TestPickWHEP(t *testing.T) {
	a := whepCandidate{id: "a", url: "http://198.51.100.5:8090", depth: 2, sessions: 10, capacity: 100}
	b := whepCandidate{id: "b", url: "http://203.0.113.9:8090", depth: 1, sessions: 10, capacity: 100}
	c := whepCandidate{id: "c", url: "https://relay.example.org", depth: 3, sessions: 1, capacity: 100}
	full := whepCandidate{id: "f", url: "http://203.0.113.10", depth: 1, sessions: 50, capacity: 50}
	big := whepCandidate{id: "g", url: "http://203.0.113.11", depth: 3, sessions: 40, capacity: 1000}
	none := netip.Addr{}
	for _, tc := range []struct {
		name   string
		cands  []whepCandidate
		client netip.Addr
		want   string
	}{
		{"nobody", nil, none, ""},
		{"only a full one", []whepCandidate{full}, none, ""},
		{"least loaded share wins", []whepCandidate{a, c}, none, "c"},
		{"share, not count: 40 of 1000 beats 10 of 100", []whepCandidate{a, big}, none, "g"},
		{"equal share: shallower", []whepCandidate{a, b}, none, "b"},
		{"same /24 beats load", []whepCandidate{c, a}, netip.MustParseAddr("198.51.100.77"), "a"},
		{"loopback client is nobody's neighbour", []whepCandidate{a, c}, netip.MustParseAddr("127.0.0.1"), "c"},
		{"full neighbour is skipped", []whepCandidate{full, c}, netip.MustParseAddr("203.0.113.1"), "c"},
		{"deterministic tie by id", []whepCandidate{{id: "z", url: "http://a", depth: 1, capacity: 1}, {id: "y", url: "http://b", depth: 1, capacity: 1}}, none, "y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if i := pickWHEP(tc.cands, tc.client); i >= 0 {
				got = tc.cands[i].id
			}
			if got != tc.want {
				t.Fatalf("picked %q, want %q", got, tc.want)
			}
		})
	}
}

// TestTrackerSendsViewersToRelays runs real tracker sessions: a root and
// two relay nodes that announce WHEP, one already busier. Viewers go to the
// idler one until the picks even the load out, never to the root, and the
// HTTP handler answers 404 once every relay is full.
func TestTrackerSendsViewersToRelays(t *testing.T) {
	// Heartbeats only at connect and a long timeout: the counts the test
	// reasons about are exactly the reported ones plus the picks.
	th := newHost(t)
	tr, err := New(Params{Host: th, HeartbeatTimeout: time.Minute, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	root := newFakeNode(t, true, 4, "s")
	root.whepURL = "http://192.0.2.1:8080" // ignored: the root is the fallback
	root.connect(th)
	busy := newFakeNode(t, false, 4, "s")
	busy.whepURL, busy.whepCap = "http://192.0.2.10:8090", 5
	busy.whepSessions.Store(2)
	idle := newFakeNode(t, false, 4, "s")
	idle.whepURL, idle.whepCap = "http://192.0.2.11:8090", 8
	plain := newFakeNode(t, false, 4, "s") // no WHEP
	for _, n := range []*fakeNode{root, busy, idle, plain} {
		n.hbEvery = time.Hour
	}
	root.connect(th)
	busy.connect(th)
	idle.connect(th)
	plain.connect(th)
	eventually(t, 5*time.Second, "all attached with heartbeats", func() error {
		for _, n := range []*fakeNode{busy, idle, plain} {
			if n.currentParent() == "" {
				return fmt.Errorf("%s has no parent", n.id)
			}
		}
		tr.mu.Lock()
		defer tr.mu.Unlock()
		if s := tr.sessions[busy.id]; s == nil || s.whepSessions != 2 {
			return errors.New("busy node's sessions not heard yet")
		}
		return nil
	})
	h := tr.WHEPHandler()
	mux := http.NewServeMux()
	mux.Handle("GET /tracker/whep/{stream}", h)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var body struct {
			URL string `json:"url"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body.URL
	}
	// Room left: busy 3 (2 of 5 in use), idle 8. Each pick goes to the
	// lower share in use (no ties arise in this sequence).
	var got []string
	for range 11 {
		code, u := get("/tracker/whep/s")
		if code != http.StatusOK {
			t.Fatalf("pick %d: status %d", len(got), code)
		}
		got = append(got, u)
	}
	I, B := idle.whepURL, busy.whepURL
	want := []string{I, I, I, I, B, I, B, I, I, B, I}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("picks %v, want %v", got, want)
	}
	if code, _ := get("/tracker/whep/s"); code != http.StatusNotFound {
		t.Fatalf("all full: status %d, want 404", code)
	}
	if code, _ := get("/tracker/whep/other"); code != http.StatusNotFound {
		t.Fatalf("unknown stream: status %d, want 404", code)
	}
	if code, _ := get("/tracker/whep/s?client=not-an-ip"); code != http.StatusBadRequest {
		t.Fatalf("bad client: status %d, want 400", code)
	}
	if code, _ := get("/tracker/whep/..%2f"); code != http.StatusBadRequest && code != http.StatusNotFound {
		t.Fatalf("bad stream: status %d", code)
	}
}

// TestHelloWithBadWHEPURLIsRefused: a node announcing a URL with a path
// (which could point viewers anywhere on a host) is refused; the tracker
// and other nodes carry on.
func TestHelloWithBadWHEPURLIsRefused(t *testing.T) {
	tr, th := startTracker(t, 0)
	root := newFakeNode(t, true, 4, "s")
	root.connect(th)
	bad := newFakeNode(t, false, 4, "s")
	bad.whepURL = "https://evil.example.org/phish"
	bad.connect(th)
	good := newFakeNode(t, false, 4, "s")
	good.whepURL = "http://192.0.2.20:8090"
	good.connect(th)
	eventually(t, 5*time.Second, "good attached, bad closed", func() error {
		if good.currentParent() == "" {
			return errors.New("good has no parent")
		}
		if err := bad.closedByTracker(); err != nil {
			return err
		}
		return nil
	})
	if u, ok := tr.PickWHEP("s", netip.Addr{}); !ok || u != good.whepURL {
		t.Fatalf("PickWHEP = %q, %v; want %q", u, ok, good.whepURL)
	}
}
