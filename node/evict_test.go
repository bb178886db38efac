package node

import (
	"testing"
	"time"
)

// TestStalledChildGivesUpItsSlot: a parent with room for one child (plus one
// of slack) whose children went silent (cut off without a FIN) accepts the
// child the tracker sends next, once an old one has been silent for
// stallEvict.
func TestStalledChildGivesUpItsSlot(t *testing.T) {
	o := newOrigin(t, 1, 64<<10)
	root := startNode(t, Params{OriginKey: o.pub, Root: true, MaxChildren: 1})
	for range 2 {
		rawChild(t, root)
	}
	eventually(t, 10*time.Second, "the dead children attached", func() bool { return children(root) == 2 })
	// Far more than the connection's flow-control window: the write to the
	// child that never reads blocks.
	o.publishInits(t, root)
	seq := uint64(0)
	for ; seq < 100; seq++ {
		o.publishColumn(t, root, seq)
	}

	late := newTestNode(t, o, false)
	if err := late.Assign(testStream, addrOf(root), addrOf(root)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	eventually(t, stallEvict+10*time.Second, "the new child is fed", func() bool {
		o.publishColumn(t, root, seq)
		seq++
		s, ok := newestSeq(late)
		return ok && s+1 >= seq-1
	})
	took := time.Since(start)
	t.Logf("new child fed %v after it was assigned", took)
	if took < stallEvict/2 {
		t.Errorf("the slot was given up after %v, before the old child could count as stalled", took)
	}
	if n := children(root); n != 2 {
		t.Errorf("root has %d children, want 2 (one dead one evicted for the new one)", n)
	}
}

func newestSeq(n *Node) (uint64, bool) {
	seqs := n.Sequences(testStream, "r0")
	if len(seqs) == 0 {
		return 0, false
	}
	return seqs[len(seqs)-1], true
}
