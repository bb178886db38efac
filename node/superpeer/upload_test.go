package superpeer

import (
	"bytes"
	"testing"
	"time"
)

// TestSlowBrowserDoesNotBlockOthers: a browser that stops reading fills its
// own buffer and is dropped; another browser is served meanwhile.
func TestSlowBrowserDoesNotBlockOthers(t *testing.T) {
	ft := newFakeTracker(t, 120)
	src := newMemSource(demoStream)
	big := segmentBytes(1, 8<<20)
	src.add("demo", "720p", 1, big)
	src.add("demo", "720p", 2, segmentBytes(2, 100_000))
	sp, _ := startSuperPeer(t, src, []string{ft.url()}, 4, func(c *timing) {
		c.highWater, c.lowWater, c.stallTimeout = 256<<10, 64<<10, 2*time.Second
	})
	h720 := hashOf(t, "demo", "b1", demoStream, 0)
	ft.waitFor(5*time.Second, "node in swarm", func() bool { return len(ft.announcesOf(h720, sp.PeerID())) > 0 })

	slow := newTestBrowser(t, ft.url(), h720)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var stuck bool
	slow.onMsg = func(m []byte) {
		if !stuck && !isCommandMessage(m) {
			stuck = true
			<-release // stop reading after the first chunk
		}
	}
	slow.announce("started", 1)
	cs := slow.waitConn(10 * time.Second)
	cs.nextCommand(t, cmdAnnouncement, 5*time.Second)
	cs.sendCommand(t, command{typ: cmdRequest, id: 1, req: 1})

	fast := newTestBrowser(t, ft.url(), h720)
	fast.announce("started", 2) // one offer reaches the node, one the slow browser
	var cf *browserConn
	for cf == nil || cf.remote != sp.PeerID() {
		cf = fast.waitConn(10 * time.Second)
	}
	cf.nextCommand(t, cmdAnnouncement, 5*time.Second)
	start := time.Now()
	got, _ := cf.download(t, 2, 9, 0)
	if !bytes.Equal(got, segmentBytes(2, 100_000)) {
		t.Fatal("fast browser got wrong bytes")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("fast browser waited %v", d)
	}
	if st := sp.Stats(); st.Stalled != 0 || st.PeersConnected != 2 {
		t.Fatalf("slow browser no longer stuck while the fast one was served: %+v", st)
	}
	waitStats(t, sp, 10*time.Second, "slow browser dropped", func(s Stats) bool {
		return s.Stalled == 1 && s.PeersConnected == 1
	})
}

// TestCancelAndSupersede exercises the upload state without a network.
func TestCancelAndSupersede(t *testing.T) {
	src := newMemSource(demoStream)
	sp, err := New(Params{Trackers: []string{"ws://127.0.0.1:1/tracker"}, Source: src, MaxPeers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	c := newPeerConn(sp, newSwarm("demo", "b1", "720p", "x", time.Second))
	c.request(command{typ: cmdRequest, id: 5, req: 1})
	c.cancel(2) // another request id: ignored
	if c.up == nil || c.up.req != 1 {
		t.Fatalf("upload %+v", c.up)
	}
	c.request(command{typ: cmdRequest, id: 6, req: 3}) // supersedes
	c.cancel(3)
	if c.up != nil {
		t.Fatalf("upload %+v after cancel", c.up)
	}
	if st := sp.Stats(); st.RequestsCanceled != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNewRejectsBadParams(t *testing.T) {
	src := newMemSource()
	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"no source", Params{Trackers: []string{"ws://x/t"}, MaxPeers: 1}},
		{"no trackers", Params{Source: src, MaxPeers: 1}},
		{"http tracker", Params{Source: src, Trackers: []string{"http://x/t"}, MaxPeers: 1}},
		{"zero peers", Params{Source: src, Trackers: []string{"ws://x/t"}}},
		{"bad public ip", Params{Source: src, Trackers: []string{"ws://x/t"}, MaxPeers: 1, ICE: ICE{PublicIPs: []string{"nope"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.p); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
