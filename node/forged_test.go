package node

import (
	"bufio"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// maliciousParent serves the tree protocol from a bare host: the stream
// info, the root's inits and media 0..good-1, then a forged copy of media
// good (unless forge is nil), then nothing more until the child hangs up.
func maliciousParent(t *testing.T, o *origin, root *Node, good uint64, forge func(*treepb.Segment)) *Node {
	t.Helper()
	h := newTestHost(t)
	send := func(st network.Stream, m *treepb.TreeMessage) bool {
		return proto.WriteMessage(st, m) == nil
	}
	seg := func(rend string, kind proto.SegmentKind, seq uint64) *treepb.Segment {
		rec, data, ok := root.Segment(testStream, rend, kind, seq)
		if !ok {
			t.Errorf("root lacks %s %v %d", rend, kind, seq)
		}
		return &treepb.Segment{Record: rec.ToPB(), Data: data}
	}
	h.SetStreamHandler(proto.TreeProtocol, func(st network.Stream) {
		defer func() { _ = st.Reset() }()
		var m treepb.TreeMessage
		if err := proto.ReadMessage(bufio.NewReader(st), &m, 0); err != nil {
			return
		}
		if !send(st, &treepb.TreeMessage{Msg: &treepb.TreeMessage_Info{Info: o.info.toPB()}}) {
			return
		}
		for _, r := range o.info.Renditions {
			if !send(st, &treepb.TreeMessage{Msg: &treepb.TreeMessage_Segment{Segment: seg(r.Name, proto.KindInit, 0)}}) {
				return
			}
		}
		for seq := range good {
			for _, r := range o.info.Renditions {
				if !send(st, &treepb.TreeMessage{Msg: &treepb.TreeMessage_Segment{Segment: seg(r.Name, proto.KindMedia, seq)}}) {
					return
				}
			}
		}
		if forge != nil {
			bad := seg(o.info.Renditions[0].Name, proto.KindMedia, good)
			forge(bad)
			if !send(st, &treepb.TreeMessage{Msg: &treepb.TreeMessage_Segment{Segment: bad}}) {
				return
			}
		}
		_, _ = st.Read(make([]byte, 1)) // until the child resets the stream
	})
	// A Node value only to reuse addrOf; it is never started.
	return &Node{p: Params{Host: h}}
}

// TestForgedSegmentRejected: a parent that sends a forged segment is
// dropped and reported; the forged bytes reach neither the child's cache
// nor its own child; the child switches to its backup and back-fills
// without a gap.
func TestForgedSegmentRejected(t *testing.T) {
	otherSeed := [32]byte{9}
	other := ed25519.NewKeyFromSeed(otherSeed[:])
	cases := []struct {
		name  string
		forge func(*treepb.Segment, *origin)
	}{
		{"flipped byte", func(s *treepb.Segment, _ *origin) { s.Data[len(s.Data)/2] ^= 0x40 }},
		{"bad signature", func(s *treepb.Segment, _ *origin) { s.Record.Signature[3] ^= 1 }},
		{"other key", func(s *treepb.Segment, _ *origin) {
			rec, err := proto.SegmentFromPB(s.Record)
			if err != nil {
				t.Error(err)
			}
			s.Data = append(s.Data, 1)
			rec = proto.Seal(rec, s.Data, other)
			s.Record = rec.ToPB()
		}},
		{"wrong broadcast", func(s *treepb.Segment, o *origin) {
			rec, _ := proto.SegmentFromPB(s.Record)
			rec.Broadcast = "other" // validly signed, but not the current broadcast
			rec = proto.Seal(rec, s.Data, o.priv)
			s.Record = rec.ToPB()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, 2, 2<<10)
			root := newTestNode(t, o, true)
			o.publishInits(t, root)
			const good, before, total = 4, 8, 12
			for seq := range uint64(before) {
				o.publishColumn(t, root, seq)
			}
			evil := maliciousParent(t, o, root, good, func(s *treepb.Segment) { tc.forge(s, o) })
			child := newTestNode(t, o, false)
			grandchild := newTestNode(t, o, false)
			if err := grandchild.Assign(testStream, addrOf(child), addrOf(root)); err != nil {
				t.Fatal(err)
			}
			eventually(t, 10*time.Second, "grandchild attached", func() bool { return children(child) == 1 })
			if err := child.Assign(testStream, addrOf(evil), addrOf(root)); err != nil {
				t.Fatal(err)
			}
			eventually(t, 10*time.Second, "child switched to the root", func() bool { return child.Parent(testStream) == root.p.Host.ID() })
			for seq := uint64(before); seq < total; seq++ {
				o.publishColumn(t, root, seq)
			}
			for _, n := range []*Node{child, grandchild} {
				eventually(t, 10*time.Second, "every segment", func() bool { return hasAll(n, o, total) })
			}
			sameAs(t, "child", child, root, o, total)
			sameAs(t, "grandchild", grandchild, root, o, total)
			if got := counterValue(t, child.metrics.segments.WithLabelValues("rejected")); got != 1 {
				t.Errorf("child rejected %v segments, want 1", got)
			}
			if p := grandchild.Parent(testStream); p != child.p.Host.ID() {
				t.Errorf("grandchild moved to %s", p)
			}
			select {
			case r := <-child.reports:
				if r.peer != evil.p.Host.ID() || r.stream != testStream || r.reason == "" {
					t.Errorf("report %+v", r)
				}
			default:
				t.Error("the forging parent was not reported")
			}
			if r := child.Reattachments(); len(r) != 1 {
				t.Errorf("re-attachments %v, want one", r)
			}
		})
	}
}
