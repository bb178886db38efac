package superpeer

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServeBrowser runs the whole exchange with a browser that joins after
// the node: tracker relay, WebRTC, announcement, download, live update,
// absent, resumption, malformed input.
func TestServeBrowser(t *testing.T) {
	ft := newFakeTracker(t, 120)
	src := newMemSource(demoStream)
	for seq := uint64(10); seq <= 12; seq++ {
		src.add("demo", "720p", seq, segmentBytes(seq, 200_000))
	}
	sp, reg := startSuperPeer(t, src, []string{ft.url()}, 4, nil)
	h720, h480 := hashOf(t, "demo", "b1", demoStream, 0), hashOf(t, "demo", "b1", demoStream, 1)
	ft.waitFor(5*time.Second, "node announces both swarms", func() bool {
		return len(ft.announcesOf(h720, sp.PeerID())) > 0 && len(ft.announcesOf(h480, sp.PeerID())) > 0
	})
	ft.mu.Lock()
	first := ft.announcesOf(h720, sp.PeerID())[0]
	header := ft.headers[0].Get("X-Canopy-Relay")
	ft.mu.Unlock()
	if first.Event != "started" || !strings.HasPrefix(sp.PeerID(), "-CN0100-") || len(sp.PeerID()) != 20 {
		t.Fatalf("first announce %+v from %q", first, sp.PeerID())
	}
	if header != "relay-test" {
		t.Fatalf("X-Canopy-Relay = %q", header)
	}

	b := newTestBrowser(t, ft.url(), h720)
	b.announce("started", 1)
	c := b.waitConn(10 * time.Second)
	if c.remote != sp.PeerID() {
		t.Fatalf("connected to %q, want the node %q", c.remote, sp.PeerID())
	}
	ann := c.nextCommand(t, cmdAnnouncement, 5*time.Second)
	if !slices.Equal(ann.loaded, []int64{10, 11, 12}) || len(ann.loading) != 0 {
		t.Fatalf("announcement %+v", ann)
	}

	got, chunks := c.download(t, 11, 501, 0)
	if !bytes.Equal(got, segmentBytes(11, 200_000)) {
		t.Fatal("segment 11 differs")
	}
	if len(chunks) != 4 || slices.Max(chunks) != maxMessage {
		t.Fatalf("chunks %v, want 3 of %d and a remainder", chunks, maxMessage)
	}

	// The live edge: a new segment is announced at once.
	start := time.Now()
	src.add("demo", "720p", 13, segmentBytes(13, 1000))
	ann = c.nextCommand(t, cmdAnnouncement, 2*time.Second)
	if !slices.Equal(ann.loaded, []int64{10, 11, 12, 13}) {
		t.Fatalf("announcement after add %+v", ann)
	}
	t.Logf("new segment announced after %v", time.Since(start))

	c.sendCommand(t, command{typ: cmdRequest, id: 99, req: 502})
	if abs := c.nextCommand(t, cmdAbsent, 5*time.Second); abs.id != 99 || abs.req != 502 {
		t.Fatalf("absent %+v", abs)
	}

	// Resumption from a byte offset sends the rest with s = remaining bytes.
	got, _ = c.download(t, 12, 503, 150_000)
	if !bytes.Equal(got, segmentBytes(12, 200_000)[150_000:]) {
		t.Fatal("resumed segment 12 differs")
	}

	// Garbage is ignored and counted, and the peer keeps being served.
	if err := c.dc.Send([]byte("cstr\x09\x00cend")); err != nil {
		t.Fatal(err)
	}
	got, _ = c.download(t, 13, 504, 0)
	if !bytes.Equal(got, segmentBytes(13, 1000)) {
		t.Fatal("segment 13 differs")
	}
	st := waitStats(t, sp, 5*time.Second, "malformed count", func(s Stats) bool { return s.Malformed >= 1 })
	if st.PeersConnected != 1 || st.SegmentsServed != 3 || st.RequestsAbsent != 1 || st.Swarms != 2 ||
		st.BytesSent < 200_000+50_000+1000 || st.TrackerConnects != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n := metricValue(t, reg, "canopy_superpeer_segments_served_total"); n != 3 {
		t.Fatalf("segments_served_total = %v", n)
	}
}

// TestNodeOffersToEarlierBrowser: a browser already in the swarm gets the
// node's own offer through the tracker and connects by answering it.
func TestNodeOffersToEarlierBrowser(t *testing.T) {
	ft := newFakeTracker(t, 120)
	src := newMemSource(demoStream)
	src.add("demo", "480p", 7, segmentBytes(7, 5000))
	h480 := hashOf(t, "demo", "b1", demoStream, 1)
	b := newTestBrowser(t, ft.url(), h480)
	b.announce("started", 0)
	ft.waitFor(5*time.Second, "browser in swarm", func() bool { return len(ft.announcesOf(h480, b.peerID)) == 1 })

	sp, _ := startSuperPeer(t, src, []string{ft.url()}, 4, nil)
	c := b.waitConn(10 * time.Second)
	if c.remote != sp.PeerID() {
		t.Fatalf("connected to %q", c.remote)
	}
	if ann := c.nextCommand(t, cmdAnnouncement, 5*time.Second); !slices.Equal(ann.loaded, []int64{7}) {
		t.Fatalf("announcement %+v", ann)
	}
	got, _ := c.download(t, 7, 1, 0)
	if !bytes.Equal(got, segmentBytes(7, 5000)) {
		t.Fatal("segment 7 differs")
	}
}

// TestMaxPeers: offers beyond MaxPeers are ignored, and a freed slot is
// taken by the next offer.
func TestMaxPeers(t *testing.T) {
	ft := newFakeTracker(t, 120)
	src := newMemSource(demoStream)
	sp, _ := startSuperPeer(t, src, []string{ft.url()}, 1, nil)
	h720 := hashOf(t, "demo", "b1", demoStream, 0)
	ft.waitFor(5*time.Second, "node in swarm", func() bool { return len(ft.announcesOf(h720, sp.PeerID())) > 0 })

	a := newTestBrowser(t, ft.url(), h720)
	a.announce("started", 1)
	ca := a.waitConn(10 * time.Second)
	ca.nextCommand(t, cmdAnnouncement, 5*time.Second)

	b := newTestBrowser(t, ft.url(), h720)
	b.announce("started", 2) // one offer reaches the node, one browser a
	waitStats(t, sp, 5*time.Second, "refused offer", func(s Stats) bool { return s.OffersRefused >= 1 })
	if st := sp.Stats(); st.PeersConnected != 1 {
		t.Fatalf("stats %+v", st)
	}

	// Browser a leaves; b's next announce gets the freed slot.
	a.close()
	waitStats(t, sp, 10*time.Second, "slot freed", func(s Stats) bool { return s.PeersConnected == 0 })
	b.announce("", 1)
	for {
		c := b.waitConn(10 * time.Second)
		if c.remote == sp.PeerID() {
			break // connections between the two browsers may come first
		}
	}
	waitStats(t, sp, 5*time.Second, "b connected", func(s Stats) bool { return s.PeersConnected == 1 })
}

// TestTrackerFailoverAndReconnect: a dead first tracker is skipped, and a
// dropped connection is re-established with a fresh "started" announce.
func TestTrackerFailoverAndReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "ws://" + ln.Addr().String() + "/tracker"
	_ = ln.Close()
	ft := newFakeTracker(t, 120)
	src := newMemSource(demoStream)
	sp, _ := startSuperPeer(t, src, []string{dead, ft.url()}, 2, nil)
	h720 := hashOf(t, "demo", "b1", demoStream, 0)
	ft.waitFor(5*time.Second, "announce via the second tracker", func() bool {
		return len(ft.announcesOf(h720, sp.PeerID())) == 1
	})
	ft.dropAll()
	ft.waitFor(10*time.Second, "re-announce after reconnect", func() bool {
		as := ft.announcesOf(h720, sp.PeerID())
		return len(as) >= 2 && as[len(as)-1].Event == "started"
	})
	if st := sp.Stats(); st.TrackerConnects < 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestReannounceAndLeave: the node re-announces on the tracker's interval
// with fresh offers once the unanswered ones expired, and sends "stopped"
// for a rendition that goes away.
func TestReannounceAndLeave(t *testing.T) {
	ft := newFakeTracker(t, 1)
	src := newMemSource(demoStream)
	sp, _ := startSuperPeer(t, src, []string{ft.url()}, 2, func(c *timing) {
		c.offersPerAnnounce, c.offerTimeout = 1, 300*time.Millisecond
	})
	h720, h480 := hashOf(t, "demo", "b1", demoStream, 0), hashOf(t, "demo", "b1", demoStream, 1)
	ft.waitFor(5*time.Second, "three announces", func() bool { return len(ft.announcesOf(h720, sp.PeerID())) >= 3 })
	ft.mu.Lock()
	as := ft.announcesOf(h720, sp.PeerID())
	ft.mu.Unlock()
	if as[0].Event != "started" || as[1].Event != "" || as[1].Offers != 1 {
		t.Fatalf("announces %+v", as)
	}
	src.setStreams(StreamInfo{Stream: "demo", Broadcast: "b1", Renditions: demoStream.Renditions[:1]})
	ft.waitFor(5*time.Second, "stopped for 480p", func() bool {
		as := ft.announcesOf(h480, sp.PeerID())
		return len(as) > 0 && as[len(as)-1].Event == "stopped"
	})
	waitStats(t, sp, 5*time.Second, "one swarm", func(s Stats) bool { return s.Swarms == 1 })
}

// TestStartContextCancel: cancelling Start's context stops the super-peer
// like Close: browser connections are closed and the swarm is left.
func TestStartContextCancel(t *testing.T) {
	ft := newFakeTracker(t, 120)
	src := newMemSource(demoStream)
	sp, err := New(Params{Trackers: []string{ft.url()}, Source: src, MaxPeers: 2, ICE: ICE{LoopbackOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sp.Start(ctx); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second Start: %v", err)
	}
	h720 := hashOf(t, "demo", "b1", demoStream, 0)
	ft.waitFor(5*time.Second, "node in swarm", func() bool { return len(ft.announcesOf(h720, sp.PeerID())) > 0 })
	b := newTestBrowser(t, ft.url(), h720)
	b.announce("started", 1)
	c := b.waitConn(10 * time.Second)
	cancel()
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("browser connection still open after the context was cancelled")
	}
	waitStats(t, sp, 5*time.Second, "no peers", func(s Stats) bool { return s.PeersConnected == 0 })
	ft.waitFor(5*time.Second, "node gone from the tracker", func() bool {
		_, in := ft.swarms[h720][sp.PeerID()]
		return !in
	})
}
