package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

const testTimeout = 500 * time.Millisecond

func startTracker(t *testing.T, recovery time.Duration) (*Tracker, host.Host) {
	t.Helper()
	h := newHost(t)
	tr, err := New(Params{
		Host: h, HeartbeatTimeout: testTimeout, RecoveryWindow: recovery, Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr, h
}

// snapshotErr verifies the tree constraints on what the tracker reports.
func snapshotErr(snap Snapshot, wantNodes, fanout int) error {
	if len(snap.Nodes) != wantNodes {
		return fmt.Errorf("%d nodes in snapshot, want %d", len(snap.Nodes), wantNodes)
	}
	byID := map[string]NodeState{}
	children := map[string]int{}
	for _, n := range snap.Nodes {
		byID[n.ID] = n
		children[n.Parent]++
	}
	for _, n := range snap.Nodes {
		if n.ID == snap.Root {
			continue
		}
		p, ok := byID[n.Parent]
		if !ok {
			return fmt.Errorf("%s has parent %q not in the tree", n.ID, n.Parent)
		}
		if n.Depth != p.Depth+1 {
			return fmt.Errorf("%s depth %d under %s depth %d", n.ID, n.Depth, p.ID, p.Depth)
		}
		if n.Backup == n.Parent || n.Backup == n.ID {
			return fmt.Errorf("%s backup %q", n.ID, n.Backup)
		}
		if b, ok := byID[n.Backup]; n.Backup != "" && (!ok || b.Depth > n.Depth) {
			return fmt.Errorf("%s backup %q missing or deeper", n.ID, n.Backup)
		}
	}
	for _, n := range snap.Nodes {
		if children[n.ID] != n.Children || n.Children > n.MaxChildren {
			return fmt.Errorf("%s: %d children listed, %d counted, max %d", n.ID, n.Children, children[n.ID], n.MaxChildren)
		}
	}
	if d, bound := snap.MaxDepth(), ceilLog(wantNodes-1, fanout)+1; d > bound {
		return fmt.Errorf("depth %d > %d", d, bound)
	}
	return nil
}

// settled reports an error until the tree holds wantNodes nodes, meets the
// constraints, and every live client's last assignment matches it.
func settled(tr *Tracker, nodes []*fakeNode, wantNodes int) func() error {
	return func() error {
		snap := tr.Snapshot("s")
		if err := snapshotErr(snap, wantNodes, 3); err != nil {
			return err
		}
		return agree(snap, nodes)
	}
}

// agree reports an error unless every client's last assignment matches
// the tracker's snapshot.
func agree(snap Snapshot, nodes []*fakeNode) error {
	for _, n := range nodes {
		st, ok := snap.Node(n.id)
		if !ok {
			return fmt.Errorf("%s not in the tree", n.id)
		}
		if n.root {
			continue
		}
		a := n.last()
		if a == nil || a.GetParent().GetId() != st.Parent || a.GetBackup().GetId() != st.Backup || int(a.GetDepth()) != st.Depth {
			return fmt.Errorf("%s was told %v, tree has %+v", n.id, a, st)
		}
	}
	return nil
}

func TestTrackerBuildsRepairsAndRebuildsTree(t *testing.T) {
	tr, th := startTracker(t, 0)
	root := newFakeNode(t, true, 3, "s")
	root.connect(th)
	nodes := []*fakeNode{root}
	for range 20 {
		n := newFakeNode(t, false, 3, "s")
		n.connect(th)
		nodes = append(nodes, n)
	}
	eventually(t, 5*time.Second, "all 20 nodes assigned and in agreement", settled(tr, nodes, 21))
	if root.assignments() != 0 {
		t.Fatalf("root got %d assignments", root.assignments())
	}
	for _, n := range nodes[1:] {
		a := n.last()
		if len(a.GetParent().GetAddrs()) == 0 || len(a.GetCandidates()) > MaxCandidates {
			t.Fatalf("%s: parent without addresses or too many candidates: %v", n.id, a)
		}
	}

	// Kill three interior nodes: their children get new parents within 1 s.
	snap := tr.Snapshot("s")
	var victims []*fakeNode
	orphans := map[string]bool{}
	for _, n := range nodes[1:] {
		if st, _ := snap.Node(n.id); st.Children > 0 && len(victims) < 3 {
			victims = append(victims, n)
		}
	}
	if len(victims) != 3 {
		t.Fatalf("only %d interior nodes", len(victims))
	}
	dead := map[string]bool{}
	for _, v := range victims {
		dead[v.id] = true
	}
	for _, n := range snap.Nodes {
		if dead[n.Parent] && !dead[n.ID] {
			orphans[n.ID] = true
		}
	}
	for _, v := range victims {
		v.kill()
	}
	killed := time.Now()
	var live []*fakeNode
	for _, n := range nodes {
		if !dead[n.id] {
			live = append(live, n)
		}
	}
	eventually(t, time.Second, "orphans re-parented", func() error {
		for _, n := range live {
			if orphans[n.id] && dead[n.currentParent()] {
				return fmt.Errorf("%s still under dead %s", n.id, n.currentParent())
			}
		}
		return nil
	})
	t.Logf("%d orphans re-parented %v after their parents died", len(orphans), time.Since(killed))
	eventually(t, 3*time.Second, "tree repaired, rebalanced, clients in agreement", settled(tr, live, 18))

	// Garbage on one stream closes that session only.
	g := newHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Connect(ctx, peer.AddrInfo{ID: th.ID(), Addrs: th.Addrs()}); err != nil {
		t.Fatal(err)
	}
	gs, err := g.NewStream(ctx, th.ID(), proto.TrackerProtocol)
	if err != nil {
		t.Fatal(err)
	}
	_ = gs.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := gs.Write([]byte("\xff\xff\xff\xff\x0fthis is not a protobuf message at all")); err != nil {
		t.Fatal(err)
	}
	if _, err := gs.Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
		t.Fatalf("garbage session not closed by the tracker: %v", err)
	}
	late := newFakeNode(t, false, 3, "s")
	late.connect(th)
	live = append(live, late)
	eventually(t, 2*time.Second, "the others carry on and a new node joins", settled(tr, live, 19))

	// Restart: a new tracker on a new host; the nodes reconnect (in random
	// order) reporting their parents, and the tree comes back as it was.
	before := map[string]string{}
	for _, n := range live {
		before[n.id] = n.currentParent()
	}
	// The tracker goes first (as in a crash), so nobody is re-parented on
	// the way down.
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range live {
		n.disconnect()
	}
	// The recovery window must cover the reconnections (slow under -race).
	tr2, th2 := startTracker(t, 10*time.Second)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
	reconnect := time.Now()
	for _, n := range live {
		n.connect(th2)
	}
	t.Logf("%d nodes reconnected in %v", len(live), time.Since(reconnect))
	eventually(t, 5*time.Second, "tree rebuilt after restart", settled(tr2, live, 19))
	for _, n := range tr2.Snapshot("s").Nodes {
		if n.Parent != before[n.ID] {
			t.Errorf("%s rebuilt under %q, had %q", n.ID, n.Parent, before[n.ID])
		}
	}

	// A report about a node's parent bans that parent: it loses its children.
	var reporter *fakeNode
	snap = tr2.Snapshot("s")
	for _, n := range live {
		if st, ok := snap.Node(n.id); ok && st.Depth >= 2 {
			reporter = n
			break
		}
	}
	bad := reporter.currentParent()
	reporter.send(&treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Report{Report: &treepb.Report{Peer: bad, Stream: "s", Reason: "hash mismatch"}}})
	eventually(t, 2*time.Second, "reported parent banned and emptied", func() error {
		snap := tr2.Snapshot("s")
		if st, _ := snap.Node(bad); !st.Banned || st.Children != 0 || reporter.currentParent() == bad {
			return fmt.Errorf("bad parent %+v, reporter under %s", st, reporter.currentParent())
		}
		return agree(snap, live)
	})

	// Stats endpoint.
	rec := httptest.NewRecorder()
	tr2.StatsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/tracker/stats", nil))
	var stats struct{ Streams []Snapshot }
	if err := json.Unmarshal(rec.Body.Bytes(), &stats); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("stats: %d %v", rec.Code, err)
	}
	if len(stats.Streams) != 1 || len(stats.Streams[0].Nodes) != 19 {
		t.Fatalf("stats = %+v", stats)
	}
}

func TestNewNeedsHost(t *testing.T) {
	if _, err := New(Params{}); err == nil {
		t.Fatal("New without host succeeded")
	}
}
