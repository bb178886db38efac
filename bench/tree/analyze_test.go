package main

import (
	"testing"
	"time"

	"github.com/canopylive/canopy/proto"
)

// TestAnalyze builds root -> a -> b and root -> c by hand: depth follows
// the path each segment took, hops are measured from the actual sender.
func TestAnalyze(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(msec int) time.Time { return t0.Add(time.Duration(msec) * time.Millisecond) }
	s0 := segmentID{Rendition: "r0", Kind: proto.KindMedia, Sequence: 0}
	s1 := segmentID{Rendition: "r0", Kind: proto.KindMedia, Sequence: 1}
	o := observations{
		RootID:       "root",
		NodeIDs:      []string{"a", "b", "c"},
		Published:    map[segmentID]time.Time{s0: at(0), s1: at(1000)},
		TrackerDepth: map[string]int{"a": 1, "b": 2, "c": 1},
		Arrivals: map[arrivalKey]arrival{
			{0, s0}: {Parent: "root", Recv: at(10), Cached: at(11)},
			{1, s0}: {Parent: "a", Recv: at(25), Cached: at(26)},
			{2, s0}: {Parent: "root", Recv: at(12), Cached: at(13)},
			{0, s1}: {Parent: "root", Recv: at(1010), Cached: at(1011)},
			// b got segment 1 from the root directly (its backup): depth 1.
			{1, s1}: {Parent: "root", Recv: at(1030)},
			// c never got segment 1.
		},
	}
	l := analyze(o)
	if l.Missing != 1 || l.Uncached != 1 || l.Unrooted != 0 || l.DepthMismatch != 1 {
		t.Fatalf("missing %d uncached %d unrooted %d mismatch %d, want 1 1 0 1", l.Missing, l.Uncached, l.Unrooted, l.DepthMismatch)
	}
	if len(l.Depths) != 2 {
		t.Fatalf("depths %+v, want 2", l.Depths)
	}
	d1, d2 := l.Depths[0], l.Depths[1]
	if d1.Depth != 1 || d1.Nodes != 3 || d1.Recv.Count != 4 || d1.Cached.Count != 3 {
		t.Errorf("depth 1: %+v", d1)
	}
	// depth 1 recv latencies: 10, 12, 10, 30 ms
	if d1.Recv.P50 != 10 || d1.Recv.Max != 30 {
		t.Errorf("depth 1 recv %+v, want p50 10 max 30", d1.Recv)
	}
	if d2.Depth != 2 || d2.Nodes != 1 || d2.Recv.P50 != 25 || d2.Hop.P50 != 15 || d2.Cached.P50 != 26 {
		t.Errorf("depth 2: %+v, want recv 25 hop 15 cached 26", d2)
	}
	if l.Hop.Count != 5 || l.Hop.Max != 30 {
		t.Errorf("all hops %+v, want 5 with max 30", l.Hop)
	}
}

func TestAnalyzeUnrooted(t *testing.T) {
	s := segmentID{Rendition: "r0", Kind: proto.KindMedia}
	now := time.Now()
	l := analyze(observations{
		RootID: "root", NodeIDs: []string{"a", "b"},
		Published: map[segmentID]time.Time{s: now},
		Arrivals: map[arrivalKey]arrival{
			{1, s}: {Parent: "a", Recv: now.Add(time.Millisecond)}, // a's own arrival unknown
			{0, s}: {Parent: "stranger", Recv: now.Add(time.Millisecond)},
		},
	})
	if l.Unrooted != 2 || len(l.Depths) != 0 {
		t.Fatalf("unrooted %d depths %+v, want 2 and none", l.Unrooted, l.Depths)
	}
}
