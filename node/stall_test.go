package node

import (
	"bufio"
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// TestStalledParent: a parent that keeps the link open but stops sending
// while the stream is live is left after 3 segment durations for the
// backup, and nothing is missed.
func TestStalledParent(t *testing.T) {
	o := newOrigin(t, 1, 1<<10)
	o.info.SegmentDuration = 100 * time.Millisecond
	root := newTestNode(t, o, true)
	o.publishInits(t, root)
	for seq := range uint64(6) {
		o.publishColumn(t, root, seq)
	}
	silent := maliciousParent(t, o, root, 3, nil)
	child := newTestNode(t, o, false)
	start := time.Now()
	if err := child.Assign(testStream, addrOf(silent), addrOf(root)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "switch to the backup", func() bool { return child.Parent(testStream) == root.p.Host.ID() })
	if d := time.Since(start); d < 3*o.info.SegmentDuration {
		t.Errorf("left the parent after %v, before the stall timeout", d)
	}
	eventually(t, 5*time.Second, "back-fill", func() bool { return hasAll(child, o, 6) })
	sameAs(t, "child", child, root, o, 6)
}

// TestTrackerClient runs the node against a fake tracker behind a dead
// one: Hello, an Assignment that attaches the node, and heartbeats that
// report the parent and an RTT to the candidate.
func TestTrackerClient(t *testing.T) {
	o := newOrigin(t, 1, 1<<10)
	root := newTestNode(t, o, true)
	dead := newTestHost(t) // speaks no tracker protocol
	tr := newTestHost(t)
	type seen struct {
		hello     *treepb.Hello
		parent    string
		rtt       bool
		heartbeat int
	}
	result := make(chan seen, 1)
	tr.SetStreamHandler(proto.TrackerProtocol, func(st network.Stream) {
		defer func() { _ = st.Reset() }()
		r := bufio.NewReader(st)
		var m treepb.TrackerMessage
		if proto.ReadMessage(r, &m, 0) != nil {
			return
		}
		var s seen
		s.hello = m.GetHello()
		rp := peerPB(root.p.Host.ID(), root.p.Host.Addrs())
		a := &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Assignment{Assignment: &treepb.Assignment{
			Stream: testStream, Parent: rp, Backup: rp, Depth: 1, Candidates: []*treepb.Peer{rp},
		}}}
		if proto.WriteMessage(st, a) != nil {
			return
		}
		for s.parent == "" || !s.rtt {
			var m treepb.TrackerMessage
			if proto.ReadMessage(r, &m, 0) != nil {
				break
			}
			hb := m.GetHeartbeat()
			if hb == nil {
				continue
			}
			s.heartbeat++
			for _, ss := range hb.Streams {
				if ss.Stream == testStream {
					s.parent = ss.Parent
				}
			}
			for _, rtt := range hb.Rtts {
				s.rtt = s.rtt || (rtt.Peer == root.p.Host.ID().String() && rtt.Micros > 0)
			}
		}
		result <- s
	})
	h := newTestHost(t)
	n, err := New(Params{
		Host: h, OriginKey: o.pub, Streams: []string{testStream}, MaxChildren: 3, UploadKbps: 5000,
		Trackers:          []peer.AddrInfo{{ID: dead.ID(), Addrs: dead.Addrs()}, {ID: tr.ID(), Addrs: tr.Addrs()}},
		HeartbeatInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	select {
	case s := <-result:
		if s.hello == nil || s.hello.Self.Id != h.ID().String() || len(s.hello.Self.Addrs) == 0 ||
			s.hello.MaxChildren != 3 || s.hello.UploadKbps != 5000 || s.hello.Root || len(s.hello.Streams) != 1 {
			t.Errorf("hello %v", s.hello)
		}
		if s.parent != root.p.Host.ID().String() || !s.rtt {
			t.Errorf("heartbeats: parent %q rtt %v", s.parent, s.rtt)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("tracker saw no heartbeat with the parent and an RTT")
	}
	o.publishInits(t, root)
	o.publishColumn(t, root, 0)
	eventually(t, 5*time.Second, "segment via the assigned parent", func() bool { return hasAll(n, o, 1) })
}

// TestMaxChildren: a full parent (its maximum plus the one child of slack)
// refuses a child, which attaches to its backup instead.
func TestMaxChildren(t *testing.T) {
	o := newOrigin(t, 1, 1<<10)
	root := newTestNode(t, o, true)
	full := startNode(t, Params{OriginKey: o.pub, Streams: []string{testStream}, MaxChildren: 1})
	if err := full.Assign(testStream, addrOf(root), addrOf(root)); err != nil {
		t.Fatal(err)
	}
	kids := []*Node{newTestNode(t, o, false), newTestNode(t, o, false), newTestNode(t, o, false)}
	for _, k := range kids {
		if err := k.Assign(testStream, addrOf(full), addrOf(root)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "two kids on full, one on the root", func() bool {
		on := map[peer.ID]int{}
		for _, k := range kids {
			on[k.Parent(testStream)]++
		}
		return children(full) == 2 && on[full.p.Host.ID()] == 2 && on[root.p.Host.ID()] == 1
	})
	o.publishInits(t, root)
	o.publishColumn(t, root, 0)
	for i, k := range kids {
		eventually(t, 5*time.Second, "segment", func() bool { return hasAll(k, o, 1) })
		sameAs(t, []string{"kid0", "kid1", "kid2"}[i], k, root, o, 1)
	}
}
