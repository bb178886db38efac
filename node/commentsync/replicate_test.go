//go:build e2e

// The multi-node replication tests assert delivery times (p99 ≤ 500 ms,
// convergence within seconds) that mean nothing under the race detector's
// slowdown on two cores, so, like the relay tree's end-to-end tests, they
// carry the e2e tag and `make test` runs them without -race.

package commentsync

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/canopylive/canopy/node/comments"
)

// latencies records, per comment, when it was posted and when it was
// stored on each node.
type latencies struct {
	mu     sync.Mutex
	posted map[string]time.Time
	stored map[string]int
	last   map[string]time.Time
}

func (l *latencies) onStored(c comments.Comment) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stored[c.ID]++
	l.last[c.ID] = now
}

// TestTwentyNodes is the comments issue's acceptance point 1: the origin
// (node 0, which is a node like any other to replication) and 20 relay
// nodes; 2,000 comments posted at random nodes over 20 s.
func TestTwentyNodes(t *testing.T) {
	const nodes, total, over = 21, 2000, 20 * time.Second
	lat := &latencies{posted: map[string]time.Time{}, stored: map[string]int{}, last: map[string]time.Time{}}
	ns := make([]*node, nodes)
	for i := range ns {
		ns[i] = startNode(t, "", lat.onStored)
	}
	for i := range ns { // ring plus chords: diameter 3 or so
		for _, d := range []int{1, 3, 7} {
			connect(t, ns[i], ns[(i+d)%nodes])
		}
	}
	// The mesh is ready when a probe from node 0 reaches every node.
	eventually(t, 20*time.Second, msg("mesh never formed"), func() bool {
		post(t, ns[0], "probe")
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			if allHave(t, ns, count(t, ns[0]))() {
				return true
			}
			time.Sleep(20 * time.Millisecond) // polling interval
		}
		return false
	})
	base := make(map[string]bool)
	for id := range ns[0].ids(t) {
		base[id] = true
	}

	want := map[string]bool{}
	var wmu sync.Mutex
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range total {
		if d := time.Until(start.Add(over * time.Duration(i) / total)); d > 0 {
			time.Sleep(d) // pacing the load, not synchronisation
		}
		n := ns[rand.IntN(nodes)]
		c := n.newComment(label(i))
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			lat.mu.Lock()
			lat.posted[c.ID] = time.Now()
			lat.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := n.sync.Post(ctx, c); err != nil {
				t.Error(err)
				return
			}
			wmu.Lock()
			want[c.ID] = true
			wmu.Unlock()
		})
	}
	wg.Wait()
	postDur := time.Since(start)
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range ns {
				t.Logf("node %d: gossipsub dropped %v", i, n.drops())
			}
		}
	})
	eventually(t, 30*time.Second, msgCounts(t, "not every node stores every comment", ns), allHave(t, ns, total+len(base)))
	for id := range base {
		want[id] = true
	}
	assertSameSet(t, ns, want)

	lat.mu.Lock()
	defer lat.mu.Unlock()
	var ds []time.Duration
	for id, p := range lat.posted {
		if lat.stored[id] != nodes {
			t.Errorf("comment %s delivered %d times, want %d (once per node)", id, lat.stored[id], nodes)
		}
		ds = append(ds, lat.last[id].Sub(p))
	}
	slices.Sort(ds)
	p50, p99, maxd := ds[len(ds)/2], ds[len(ds)*99/100], ds[len(ds)-1]
	t.Logf("%d nodes, %d comments posted in %v: delivery to all nodes p50 %v, p99 %v, max %v",
		nodes, total, postDur.Round(time.Millisecond), p50, p99, maxd)
	if p99 > 500*time.Millisecond {
		t.Errorf("p99 delivery latency %v > 500ms", p99)
	}
}

func TestRestartCatchUp(t *testing.T) {
	const total = 500
	ns := make([]*node, 8)
	for i := range ns {
		ns[i] = startNode(t, "", nil)
	}
	for i := range ns {
		for j := i + 1; j < len(ns); j++ {
			connect(t, ns[i], ns[j])
		}
	}
	eventually(t, 10*time.Second, msg("topic peers"), func() bool {
		return len(ns[0].sync.streams[testStream].topic.ListPeers()) == len(ns)-1
	})
	up, down := ns[:3], ns[3:]
	for _, n := range down {
		n.stop()
	}
	want := map[string]bool{}
	for i := range total {
		want[post(t, up[i%len(up)], label(i)).ID] = true
	}
	eventually(t, 10*time.Second, msg("running nodes converge"), allHave(t, up, total))

	start := time.Now()
	restarted := make([]*node, len(down))
	for i, n := range down {
		restarted[i] = startNode(t, n.dir, nil)
		connect(t, restarted[i], up[i%len(up)])
	}
	eventually(t, 10*time.Second, msgCounts(t, "restarted nodes did not catch up", restarted), allHave(t, restarted, total))
	t.Logf("5 restarted nodes hold all %d comments %v after restart", total, time.Since(start).Round(time.Millisecond))
	assertSameSet(t, append(up, restarted...), want)
}

func TestPartitionHeals(t *testing.T) {
	const perSide = 150
	ns := make([]*node, 6)
	for i := range ns {
		ns[i] = startNode(t, "", nil)
	}
	a, b := ns[:3], ns[3:]
	for _, g := range [][]*node{a, b} {
		for i := range g {
			for j := i + 1; j < len(g); j++ {
				connect(t, g[i], g[j])
			}
		}
	}
	for _, g := range [][]*node{a, b} {
		eventually(t, 10*time.Second, msg("topic peers"), func() bool {
			for _, n := range g {
				if len(n.sync.streams[testStream].topic.ListPeers()) != len(g)-1 {
					return false
				}
			}
			return true
		})
	}
	want := map[string]bool{}
	for i := range perSide { // interleaved timestamps on both sides
		want[post(t, a[i%3], "a "+label(i)).ID] = true
		want[post(t, b[i%3], "b "+label(i)).ID] = true
	}
	eventually(t, 10*time.Second, msg("side A converges"), allHave(t, a, perSide))
	eventually(t, 10*time.Second, msg("side B converges"), allHave(t, b, perSide))

	// Heal through one bridge only: a[1], a[2], b[1], b[2] learn the other
	// side through republishing, not by a direct catch-up.
	connect(t, a[0], b[0])
	eventually(t, 10*time.Second, msgCounts(t, "partition did not heal", ns), allHave(t, ns, 2*perSide))
	assertSameSet(t, ns, want)
}
