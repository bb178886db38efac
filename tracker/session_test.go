package tracker

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

func TestSessionRejections(t *testing.T) {
	tests := []struct {
		name string
		msg  func(self string) *treepb.TrackerMessage
	}{
		{"heartbeat before hello", func(string) *treepb.TrackerMessage {
			return &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Heartbeat{Heartbeat: &treepb.Heartbeat{}}}
		}},
		{"hello for another peer", func(string) *treepb.TrackerMessage {
			return &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Hello{Hello: &treepb.Hello{Self: &treepb.Peer{Id: "someone-else"}, Streams: []string{"s"}}}}
		}},
		{"too many streams", func(self string) *treepb.TrackerMessage {
			var ss []string
			for i := range MaxStreamsPerNode + 1 {
				ss = append(ss, fmt.Sprint("s", i))
			}
			return &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Hello{Hello: &treepb.Hello{Self: &treepb.Peer{Id: self}, Streams: ss}}}
		}},
		{"bad address", func(self string) *treepb.TrackerMessage {
			return &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Hello{Hello: &treepb.Hello{Self: &treepb.Peer{Id: self, Addrs: [][]byte{{0xff, 0xff}}}, Streams: []string{"s"}}}}
		}},
	}
	tr, th := startTracker(t, 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := h.Connect(ctx, peer.AddrInfo{ID: th.ID(), Addrs: th.Addrs()}); err != nil {
				t.Fatal(err)
			}
			st, err := h.NewStream(ctx, th.ID(), proto.TrackerProtocol)
			if err != nil {
				t.Fatal(err)
			}
			_ = st.SetReadDeadline(time.Now().Add(5 * time.Second))
			if err := proto.WriteMessage(st, tc.msg(h.ID().String())); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
				t.Fatalf("session not closed: %v", err)
			}
			if len(tr.Snapshot("s").Nodes) != 0 {
				t.Fatal("rejected node is in the tree")
			}
		})
	}
}

func TestSilentNodeTimesOut(t *testing.T) {
	tr, th := startTracker(t, 0)
	root := newFakeNode(t, true, 1, "s")
	a := newFakeNode(t, false, 1, "s")
	b := newFakeNode(t, false, 1, "s")
	root.connect(th)
	a.connect(th)
	eventually(t, 3*time.Second, "a under root", func() error {
		if a.currentParent() != root.id {
			return fmt.Errorf("a under %q", a.currentParent())
		}
		return nil
	})
	b.connect(th)
	eventually(t, 3*time.Second, "b under a", func() error {
		if b.currentParent() != a.id {
			return fmt.Errorf("b under %q", b.currentParent())
		}
		return nil
	})
	a.silence()
	silenced := time.Now()
	eventually(t, 4*testTimeout, "b moved to the root after a's heartbeats stopped", func() error {
		if b.currentParent() != root.id {
			return fmt.Errorf("b under %q", b.currentParent())
		}
		return nil
	})
	// The last heartbeat went out up to 100 ms before the silence.
	if d := time.Since(silenced); d < testTimeout-100*time.Millisecond {
		t.Fatalf("a removed after %v, before the heartbeat timeout", d)
	}
	if _, ok := tr.Snapshot("s").Node(a.id); ok {
		t.Fatal("silent a still in the tree")
	}
}

// A node that opens a new tracker stream while its old one is still up
// keeps its place: its children do not move and it is told its link again.
func TestReconnectKeepsPlace(t *testing.T) {
	tr, th := startTracker(t, 0)
	root := newFakeNode(t, true, 1, "s")
	a := newFakeNode(t, false, 1, "s")
	b := newFakeNode(t, false, 1, "s")
	root.connect(th)
	a.connect(th)
	eventually(t, 3*time.Second, "a under root", func() error {
		if a.currentParent() != root.id {
			return fmt.Errorf("a under %q", a.currentParent())
		}
		return nil
	})
	b.connect(th)
	eventually(t, 3*time.Second, "b under a", func() error {
		if b.currentParent() != a.id {
			return fmt.Errorf("b under %q", b.currentParent())
		}
		return nil
	})
	before := b.assignments()
	// A second fakeNode on a's host plays a's new session.
	a2 := &fakeNode{t: t, h: a.h, id: a.id, maxChildren: 1, stream: "s"}
	a2.parent = root.id
	t.Cleanup(a2.disconnect)
	a2.connect(th)
	eventually(t, 3*time.Second, "a's new session told its link", func() error {
		if a2.currentParent() != root.id {
			return fmt.Errorf("a2 under %q", a2.currentParent())
		}
		return nil
	})
	// The old stream is reset by the tracker; b stays under a.
	eventually(t, 3*time.Second, "old session closed", a.closedByTracker)
	if got := b.assignments(); got != before || b.currentParent() != a.id {
		t.Fatalf("b moved: %d assignments (had %d), parent %q", got, before, b.currentParent())
	}
	if st, _ := tr.Snapshot("s").Node(a.id); st.Children != 1 {
		t.Fatalf("a has %d children", st.Children)
	}
}

func TestRootPeersEnforced(t *testing.T) {
	h := newHost(t)
	tr, err := New(Params{Host: h, HeartbeatTimeout: testTimeout, RootPeers: []string{"someone-else"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	root := newFakeNode(t, true, 1, "s")
	root.connect(h)
	eventually(t, 3*time.Second, "claimed root refused", root.closedByTracker)
	a := newFakeNode(t, false, 1, "s")
	a.connect(h)
	eventually(t, 3*time.Second, "a in the tree without a root", func() error {
		snap := tr.Snapshot("s")
		if snap.Root != "" {
			return fmt.Errorf("unauthorised root accepted: %s", snap.Root)
		}
		if _, ok := snap.Node(a.id); !ok {
			return fmt.Errorf("a not in tree")
		}
		return nil
	})
	if a.assignments() != 0 {
		t.Fatal("assignment without a root")
	}
}
