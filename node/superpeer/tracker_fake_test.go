package superpeer

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeTracker is a minimal WebTorrent WebSocket tracker: it keeps swarms of
// sockets and relays offers and answers the way bittorrent-tracker's server
// does. It records what it received for assertions.
type fakeTracker struct {
	t        *testing.T
	srv      *httptest.Server
	interval int // seconds, sent in announce responses

	mu       sync.Mutex
	swarms   map[string]map[string]*fakeClient // info_hash -> peer_id -> client
	clients  map[*fakeClient]struct{}
	received []fakeAnnounce
	headers  []http.Header
	changed  chan struct{} // closed and replaced on every recorded change
	wg       sync.WaitGroup
}

type fakeClient struct {
	conn *websocket.Conn
	wmu  sync.Mutex
}

// fakeAnnounce is what the tracker recorded of one message.
type fakeAnnounce struct {
	InfoHash, PeerID, Event string
	Offers                  int
	Answer                  bool
}

// trackerWire is a tracker message with the SDP objects kept raw.
type trackerWire struct {
	Action   string          `json:"action"`
	InfoHash string          `json:"info_hash"`
	PeerID   string          `json:"peer_id"`
	ToPeerID string          `json:"to_peer_id"`
	Event    string          `json:"event"`
	OfferID  string          `json:"offer_id"`
	Answer   json.RawMessage `json:"answer"`
	Offers   []struct {
		Offer   json.RawMessage `json:"offer"`
		OfferID string          `json:"offer_id"`
	} `json:"offers"`
}

func newFakeTracker(t *testing.T, interval int) *fakeTracker {
	ft := &fakeTracker{
		t: t, interval: interval,
		swarms:  map[string]map[string]*fakeClient{},
		clients: map[*fakeClient]struct{}{},
		changed: make(chan struct{}),
	}
	ft.srv = httptest.NewServer(http.HandlerFunc(ft.serve))
	t.Cleanup(ft.close)
	return ft
}

func (ft *fakeTracker) url() string {
	return "ws" + strings.TrimPrefix(ft.srv.URL, "http") + "/tracker"
}

func (ft *fakeTracker) close() {
	ft.dropAll()
	ft.srv.Close()
	ft.wg.Wait()
}

// dropAll closes every client connection.
func (ft *fakeTracker) dropAll() {
	ft.mu.Lock()
	for c := range ft.clients {
		_ = c.conn.CloseNow()
	}
	ft.mu.Unlock()
}

func (ft *fakeTracker) serve(w http.ResponseWriter, r *http.Request) {
	// Browsers connect from pages of any origin, as to the real tracker.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ft.wg.Add(1)
	defer ft.wg.Done()
	conn.SetReadLimit(1 << 20)
	c := &fakeClient{conn: conn}
	ft.mu.Lock()
	ft.clients[c] = struct{}{}
	ft.headers = append(ft.headers, r.Header.Clone())
	ft.mu.Unlock()
	defer func() {
		ft.mu.Lock()
		delete(ft.clients, c)
		for _, sw := range ft.swarms {
			for id, cl := range sw {
				if cl == c {
					delete(sw, id)
				}
			}
		}
		// A disconnect changes the swarms too: wake waitFor.
		close(ft.changed)
		ft.changed = make(chan struct{})
		ft.mu.Unlock()
		_ = conn.CloseNow()
	}()
	for {
		_, data, err := conn.Read(context.Background())
		if err != nil {
			return
		}
		var m trackerWire
		if json.Unmarshal(data, &m) != nil || m.Action != "announce" {
			continue
		}
		ft.handle(c, m)
	}
}

func (ft *fakeTracker) handle(c *fakeClient, m trackerWire) {
	ft.mu.Lock()
	ft.received = append(ft.received, fakeAnnounce{InfoHash: m.InfoHash, PeerID: m.PeerID,
		Event: m.Event, Offers: len(m.Offers), Answer: m.Answer != nil})
	if ft.swarms[m.InfoHash] == nil {
		ft.swarms[m.InfoHash] = map[string]*fakeClient{}
	}
	sw := ft.swarms[m.InfoHash]
	type delivery struct {
		to  *fakeClient
		msg any
	}
	var out []delivery
	switch {
	case m.Answer != nil:
		if to := sw[m.ToPeerID]; to != nil {
			out = append(out, delivery{to, map[string]any{"action": "announce", "answer": m.Answer,
				"offer_id": m.OfferID, "peer_id": m.PeerID, "info_hash": m.InfoHash}})
		}
	case m.Event == "stopped":
		delete(sw, m.PeerID)
	default:
		sw[m.PeerID] = c
		out = append(out, delivery{c, map[string]any{"action": "announce", "interval": ft.interval,
			"info_hash": m.InfoHash, "complete": 0, "incomplete": len(sw)}})
		i := 0
		for id, peer := range sw { // map order: a random pick, like the real tracker
			if id == m.PeerID || i >= len(m.Offers) {
				continue
			}
			out = append(out, delivery{peer, map[string]any{"action": "announce", "offer": m.Offers[i].Offer,
				"offer_id": m.Offers[i].OfferID, "peer_id": m.PeerID, "info_hash": m.InfoHash}})
			i++
		}
	}
	close(ft.changed)
	ft.changed = make(chan struct{})
	ft.mu.Unlock()
	for _, d := range out {
		b, _ := json.Marshal(d.msg)
		d.to.wmu.Lock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.to.conn.Write(ctx, websocket.MessageText, b)
		cancel()
		d.to.wmu.Unlock()
	}
}

// waitFor blocks until cond (evaluated under the tracker's lock) holds.
func (ft *fakeTracker) waitFor(timeout time.Duration, what string, cond func() bool) {
	ft.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		ft.mu.Lock()
		ok, ch := cond(), ft.changed
		ft.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			ft.t.Fatalf("tracker: timed out waiting for %s", what)
		}
	}
}

// announcesOf returns the recorded announces of peerID in swarm infoHash.
func (ft *fakeTracker) announcesOf(infoHash, peerID string) []fakeAnnounce {
	var out []fakeAnnounce
	for _, a := range ft.received {
		if a.InfoHash == infoHash && a.PeerID == peerID && !a.Answer {
			out = append(out, a)
		}
	}
	return out
}
