package webtorrent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestMessageSizeLimit(t *testing.T) {
	tt := startTracker(t, Params{})
	hash := id20("swarm-size")
	pad := func(total int) []byte {
		head := fmt.Sprintf(`{"action":"announce","info_hash":%q,"peer_id":%q,"pad":"`, hash, id20("p"))
		return []byte(head + strings.Repeat("a", total-len(head)-2) + `"}`)
	}
	ok := dial(t, tt, nil)
	ok.sendRaw(pad(64 << 10)) // exactly the limit
	if r := ok.recv(); r["interval"] == nil {
		t.Fatalf("64 KiB message: %v", r)
	}
	big := dial(t, tt, nil)
	big.sendRaw(pad(64<<10 + 1))
	ce := big.expectClose()
	if ce.Code != websocket.StatusMessageTooBig || ce.Reason != "message larger than 65536 bytes" {
		t.Fatalf("close = %v, want 1009 with the limit", ce)
	}
	ok.sync(hash) // the other client is unaffected
}

func TestOfferAndNumWantLimits(t *testing.T) {
	tests := []struct {
		name             string
		p                Params
		offers, numwant  int
		wantReceivers    int
		wantOfferIndexes string
	}{
		{"offers trimmed", Params{MaxOffersPerAnnounce: 2}, 5, 5, 2, "01"},
		{"numwant capped", Params{MaxNumWant: 3}, 5, 50, 3, "012"},
		{"numwant below offers", Params{}, 5, 1, 1, "0"},
		{"numwant zero", Params{}, 5, 0, 0, ""},
		{"no offers", Params{}, 0, 5, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tt := startTracker(t, tc.p)
			hash := id20("swarm-limits")
			peers := map[string]*client{}
			for i := range 5 {
				c := dial(t, tt, nil)
				c.announce(hash, id20(fmt.Sprint("peer", i)), 5, nil, "started")
				peers[fmt.Sprint(i)] = c
			}
			a := dial(t, tt, nil)
			a.announce(hash, id20("A"), tc.numwant, offers(tc.offers, "o"), "started")
			var indexes []byte
			for _, c := range peers {
				c.send(map[string]any{"action": "scrape", "info_hash": hash})
				m := c.recv()
				if o, ok := m["offer"].(map[string]any); ok {
					// offers() tags each SDP with its index after the tag.
					sdp := o["sdp"].(string)
					indexes = append(indexes, sdp[strings.Index(sdp, " o ")+3])
					m = c.recv()
				}
				if m["action"] != "scrape" {
					t.Fatalf("unexpected %v", m)
				}
			}
			if len(indexes) != tc.wantReceivers || !sameBytes(indexes, tc.wantOfferIndexes) {
				t.Fatalf("offers delivered: %q, want %d receivers of %q", indexes, tc.wantReceivers, tc.wantOfferIndexes)
			}
		})
	}
}

// sameBytes compares as multisets.
func sameBytes(got []byte, want string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, b := range got {
		if strings.Count(want, string(b)) != strings.Count(string(got), string(b)) {
			return false
		}
	}
	return true
}

func TestAnnounceFloodIsRateLimitedThenClosed(t *testing.T) {
	clock := newFakeClock()
	tt := startTracker(t, Params{Clock: clock.Now, AnnouncesPerSecond: 5, AnnounceBurst: 10, MaxStrikes: 20})
	c, bystander := dial(t, tt, nil), dial(t, tt, nil)
	hash := id20("swarm-flood")
	bystander.announce(hash, id20("by"), 5, nil, "started")
	for i := range 10 {
		c.announce(hash, id20("flood"), 5, nil, []string{"started", ""}[min(i, 1)])
	}
	c.send(map[string]any{"action": "announce", "info_hash": hash, "peer_id": id20("flood"), "numwant": 5})
	r := c.recv()
	if r["failure reason"] != ErrRateLimited.Error() || r["action"] != "announce" || r["info_hash"] != hash {
		t.Fatalf("11th announce: %v, want the rate-limit failure", r)
	}
	clock.Advance(time.Second) // 5 tokens
	for range 5 {
		c.announce(hash, id20("flood"), 5, nil, "")
	}
	for range 20 {
		c.send(map[string]any{"action": "announce", "info_hash": hash, "peer_id": id20("flood"), "numwant": 5})
	}
	for i := range 20 {
		if r := c.recv(); r["failure reason"] != ErrRateLimited.Error() {
			t.Fatalf("flood reply %d: %v", i, r)
		}
	}
	if ce := c.expectClose(); ce.Code != websocket.StatusPolicyViolation {
		t.Fatalf("close = %v, want 1008", ce)
	}
	tt.waitClosed(t, 1)
	bystander.announce(hash, id20("by"), 5, nil, "") // unaffected
}

func TestGarbageFloodIsClosed(t *testing.T) {
	tt := startTracker(t, Params{AnnounceBurst: 1000, MaxStrikes: 5})
	c, bystander := dial(t, tt, nil), dial(t, tt, nil)
	for range 5 {
		c.sendRaw([]byte("\x00\xffgarbage"))
	}
	for range 5 {
		if r := c.recv(); !strings.HasPrefix(r["failure reason"].(string), ErrBadJSON.Error()) {
			t.Fatalf("reply %v", r)
		}
	}
	if ce := c.expectClose(); ce.Code != websocket.StatusPolicyViolation || ce.Reason == "" {
		t.Fatalf("close = %v, want 1008 with a reason", ce)
	}
	bystander.announce(id20("h"), id20("p"), 5, nil, "started")
}

func TestBadMessagesGetFailureReason(t *testing.T) {
	tt := startTracker(t, Params{AnnounceBurst: 1000})
	c := dial(t, tt, nil)
	hash, peer := id20("swarm-bad"), id20("peer")
	tests := []struct {
		msg        string
		reason     string
		withAction bool // reply names the action and info_hash
	}{
		{`not json`, ErrBadJSON.Error(), false},
		{`[1,2]`, ErrBadJSON.Error(), false},
		{`{"info_hash":"x"}`, "unknown action: missing action", false},
		{`{"action":"connect"}`, `unknown action "connect"`, false},
		{`{"action":"announce","info_hash":"short","peer_id":"` + peer + `"}`, ErrBadInfoHash.Error(), false},
		{`{"action":"announce","info_hash":"` + hash + `x","peer_id":"` + peer + `"}`, ErrBadInfoHash.Error(), false},
		{`{"action":"announce","info_hash":"` + hash + `"}`, ErrBadPeerID.Error(), true},
		{`{"action":"announce","info_hash":"` + hash + `","peer_id":"\u0100` + peer[1:] + `"}`, ErrBadPeerID.Error(), true},
		{`{"action":"announce","info_hash":"` + hash + `","peer_id":"` + peer + `","event":"bogus"}`, ErrBadEvent.Error(), true},
		{`{"action":"announce","info_hash":"` + hash + `","peer_id":"` + peer + `","numwant":"many"}`, ErrBadNumWant.Error(), true},
		{`{"action":"announce","info_hash":"` + hash + `","peer_id":"` + peer + `","offers":{}}`, ErrBadOffer.Error(), true},
		{`{"action":"announce","info_hash":"` + hash + `","peer_id":"` + peer + `","offers":[{"offer":"x","offer_id":"y"}]}`, ErrBadOffer.Error(), true},
		{`{"action":"announce","info_hash":"` + hash + `","peer_id":"` + peer + `","answer":{},"offer_id":"o"}`, ErrBadToPeerID.Error(), true},
		{`{"action":"announce","info_hash":"` + hash + `","peer_id":"` + peer + `","answer":{},"to_peer_id":"` + peer + `"}`, ErrBadOfferID.Error(), true},
		{`{"action":"scrape"}`, ErrBadInfoHash.Error() + ": scrape needs info_hash", false},
		{`{"action":"scrape","info_hash":["` + hash + `", 7]}`, ErrBadInfoHash.Error(), false},
	}
	for _, tc := range tests {
		t.Run(tc.msg, func(t *testing.T) {
			c.sendRaw([]byte(tc.msg))
			r := c.recv()
			reason, _ := r["failure reason"].(string)
			if !strings.HasPrefix(reason, tc.reason) {
				t.Fatalf("failure reason %q, want prefix %q (reply %v)", reason, tc.reason, r)
			}
			if tc.withAction && (r["action"] != "announce" || r["info_hash"] != hash) {
				t.Fatalf("reply %v should name the action and info_hash", r)
			}
		})
	}
	c.announce(hash, peer, 5, nil, "started") // still served
}

func TestCapacityLimits(t *testing.T) {
	tt := startTracker(t, Params{MaxPeersPerSwarm: 1, MaxSwarms: 2, MaxSwarmsPerConn: 1, RelayAuth: testRelayAuth})
	a, b := dial(t, tt, nil), dial(t, tt, nil)
	relay := dial(t, tt, map[string][]string{relayHeader: {"r1"}})
	h1, h2, h3 := id20("cap-1"), id20("cap-2"), id20("cap-3")
	a.announce(h1, id20("A"), 5, nil, "started")
	fail := func(c *client, hash, peer string, want error) {
		t.Helper()
		c.send(map[string]any{"action": "announce", "info_hash": hash, "peer_id": peer, "numwant": 5})
		if r := c.recv(); r["failure reason"] != want.Error() || r["info_hash"] != hash {
			t.Fatalf("got %v, want failure %q", r, want)
		}
	}
	fail(b, h1, id20("B"), ErrSwarmFull)
	b.announce(h2, id20("B"), 5, nil, "started")
	fail(a, h2, id20("A"), ErrConnSwarmLimit)
	fail(b, h1, id20("B"), ErrConnSwarmLimit)
	fail(b, h3, id20("B"), ErrTooManySwarms)
	relay.announce(h1, id20("-CN0100-"), 5, nil, "started") // relays pass the swarm and per-socket caps
	relay.announce(h2, id20("-CN0100-"), 5, nil, "started")
	fail(relay, h3, id20("-CN0100-"), ErrTooManySwarms)
	if st := tt.Stats(); st.Peers != 4 || st.Relays != 2 || st.Swarms != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

// stallPeer puts a peer that never reads into a swarm and has another
// peer, a, offer it 20 large offers.
func stallPeer(t *testing.T, tt *testTracker, hash string) (slow, a *client) {
	t.Helper()
	slow = dialSmallReceiveBuffer(t, tt)
	slow.announce(hash, id20("slow"), 5, nil, "started")
	a = dial(t, tt, nil)
	big := strings.Repeat("s", 60<<10)
	for i := range 20 {
		o := []map[string]any{{"offer": map[string]any{"type": "offer", "sdp": big}, "offer_id": id20(fmt.Sprint(i))}}
		a.announce(hash, id20("A"), 1, o, "")
	}
	return slow, a
}

func TestSlowReaderDoesNotBlockSwarm(t *testing.T) {
	tt := startTrackerWith(t, Params{SendQueueLen: 4, WriteTimeout: time.Minute, AnnounceBurst: 1000}, true)
	hash := id20("swarm-slow")
	slow, a := stallPeer(t, tt, hash)
	// a was served throughout while the stalled socket, still open, had
	// its queue full: messages for it were dropped, nobody waited.
	if st := tt.Stats(); st.Totals.Dropped == 0 || st.Totals.OffersRelayed != 20 || st.Connections != 2 {
		t.Fatalf("want 20 offers relayed, some dropped, the stalled socket open: %+v, %d connections",
			st.Totals, st.Connections)
	}
	_ = slow.ws.CloseNow() // the blocked write fails, the socket is cleaned up
	tt.waitClosed(t, 1)
	if r := a.announce(hash, id20("A"), 1, nil, ""); r["incomplete"] != 1.0 {
		t.Fatalf("after the stalled reader left: %v", r)
	}
}

func TestStalledWriteTimesOut(t *testing.T) {
	tt := startTrackerWith(t, Params{WriteTimeout: 300 * time.Millisecond, AnnounceBurst: 1000}, true)
	hash := id20("swarm-stalled")
	_, a := stallPeer(t, tt, hash)
	tt.waitClosed(t, 1) // nobody closes the stalled socket but the write timeout
	if r := a.announce(hash, id20("A"), 1, nil, ""); r["incomplete"] != 1.0 {
		t.Fatalf("after the stalled reader was dropped: %v", r)
	}
}

// dialSmallReceiveBuffer dials with a 4 KiB receive buffer, for a client
// that stops reading to stall the server quickly.
func dialSmallReceiveBuffer(t *testing.T, tt *testTracker) *client {
	t.Helper()
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
		})
		return errors.Join(err, serr)
	}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, tt.url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &client{t: t, ws: ws}
}
