package node

import (
	"bufio"
	"testing"
	"time"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// TestSlowChildDoesNotDelaySiblings attaches a child that stops reading
// next to two real nodes. The siblings get every segment promptly; the
// slow child's frames are dropped and counted, and once it reads again it
// gets Skipped and then live segments. Its writer holds at most one
// drained batch plus a full queue, so it gets at most about twice the queue.
func TestSlowChildDoesNotDelaySiblings(t *testing.T) {
	o := newOrigin(t, 1, 32<<10)
	root := newTestNode(t, o, true)
	sibs := []*Node{newTestNode(t, o, false), newTestNode(t, o, false)}
	for _, s := range sibs {
		if err := s.Assign(testStream, addrOf(root), addrOf(root)); err != nil {
			t.Fatal(err)
		}
	}
	st := rawChild(t, root)
	// The slow child reads slowly but is alive: it keeps sending Acks, or
	// the root would drop it after childSilence (it did, on a loaded
	// machine, before the test got to read).
	ackDone := make(chan struct{})
	ackStopped := make(chan struct{})
	go func() {
		defer close(ackStopped)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		ack := &treepb.TreeMessage{Msg: &treepb.TreeMessage_Ack{Ack: &treepb.Ack{}}}
		for {
			select {
			case <-ackDone:
				return
			case <-tick.C:
				if proto.WriteMessage(st, ack) != nil {
					return
				}
			}
		}
	}()
	t.Cleanup(func() { close(ackDone); <-ackStopped })
	eventually(t, 10*time.Second, "three children", func() bool { return children(root) == 3 })

	// 200 × 32 KiB is far beyond the flow-control window of the slow
	// child's connection, so its writer blocks and its queue overflows.
	const total = 200
	o.publishInits(t, root)
	start := time.Now()
	for seq := range uint64(total) {
		o.publishColumn(t, root, seq)
	}
	published := time.Since(start)
	for _, s := range sibs {
		eventually(t, 5*time.Second, "siblings have every segment", func() bool { return hasAll(s, o, total) })
	}
	t.Logf("published %d segments in %v; siblings complete after %v", total, published, time.Since(start))
	for i, s := range sibs {
		sameAs(t, []string{"sib0", "sib1"}[i], s, root, o, total)
	}
	drops := counterValue(t, root.metrics.drops)
	if drops == 0 {
		t.Fatal("no frames were dropped for the slow child")
	}

	// The slow child reads again: Skipped, then the segments after it.
	r := bufio.NewReaderSize(st, 1<<20)
	_ = st.SetReadDeadline(time.Now().Add(15 * time.Second))
	var skipped *treepb.Skipped
	media := 0
	for skipped == nil {
		var m treepb.TreeMessage
		if err := proto.ReadMessage(r, &m, 0); err != nil {
			t.Fatalf("slow child read after %d media: %v", media, err)
		}
		if m.GetSegment() != nil {
			media++
		}
		skipped = m.GetSkipped()
	}
	if skipped.FromSequence > skipped.ToSequence || skipped.ToSequence >= total || skipped.Stream != testStream {
		t.Fatalf("Skipped %v", skipped)
	}
	if got := uint64(media) + (skipped.ToSequence - skipped.FromSequence + 1); got > total+1 || media > 2*childQueueLen+2 {
		t.Errorf("slow child got %d media and skip %d..%d of %d", media, skipped.FromSequence, skipped.ToSequence, total)
	}
	o.publishColumn(t, root, total)
	for {
		var m treepb.TreeMessage
		if err := proto.ReadMessage(r, &m, 0); err != nil {
			t.Fatalf("slow child read after Skipped: %v", err)
		}
		if seg := m.GetSegment(); seg != nil && seg.Record.Kind == uint32(proto.KindMedia) {
			if seg.Record.Sequence <= skipped.ToSequence {
				t.Fatalf("segment %d after Skipped up to %d", seg.Record.Sequence, skipped.ToSequence)
			}
			if seg.Record.Sequence == total {
				break
			}
		}
	}
	t.Logf("slow child: %d media before Skipped{%d..%d}, %v drops", media, skipped.FromSequence, skipped.ToSequence, drops)
}
