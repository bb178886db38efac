package commentsync

import (
	"context"
	"testing"
	"time"

	"github.com/canopylive/canopy/node/comments"
)

// Comments that gossip never carried (here: put straight into one node's
// store) reach the other nodes through the periodic repair pull.
func TestRepairPullsWhatGossipMissed(t *testing.T) {
	fast := func(p *Params) { p.RepairInterval = 100 * time.Millisecond }
	ns := []*node{startNode(t, "", nil, fast), startNode(t, "", nil, fast), startNode(t, "", nil, fast)}
	connect(t, ns[0], ns[1])
	connect(t, ns[1], ns[2])
	first := post(t, ns[0], "over gossip")
	eventually(t, 10*time.Second, msgCounts(t, "gossip", ns), allHave(t, ns, 1))

	var quiet []comments.Comment
	for i := range 50 {
		quiet = append(quiet, ns[2].newComment(label(i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := ns[2].store.Put(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, msgCounts(t, "repair did not spread the quiet comments", ns), allHave(t, ns, 51))
	want := map[string]bool{first.ID: true}
	for _, c := range quiet {
		want[c.ID] = true
	}
	assertSameSet(t, ns, want)
}
