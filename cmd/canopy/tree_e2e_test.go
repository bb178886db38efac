//go:build e2e

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/internal/testsrc"
	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/tracker"
)

// treeEnv is an origin with its root node, trackers and relay nodes, all
// in this process on loopback, with real libp2p hosts.
type treeEnv struct {
	t        *testing.T
	cfg      config.Config
	log      *slog.Logger
	trackers []*testTracker
	stack    *originStack
	nodes    []*testNode
	key      ed25519.PublicKey
}

type testTracker struct {
	h    host.Host
	tr   *tracker.Tracker
	info peer.AddrInfo
}

type testNode struct {
	h      host.Host
	n      *node.Node
	killed bool
}

const treeStream = "tree"

func quietLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startTracker starts a tracker on listen (a fixed address lets a restarted
// tracker come back where nodes expect it).
func (e *treeEnv) startTracker(identity string, listen []string) *testTracker {
	e.t.Helper()
	h, err := p2p.NewHost(p2p.HostParams{IdentityFile: identity, Listen: listen})
	if err != nil {
		e.t.Fatal(err)
	}
	tr, err := tracker.New(tracker.Params{Host: h, Logger: e.log.With("component", "tracker"), HeartbeatTimeout: 3 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return &testTracker{h: h, tr: tr, info: peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}}
}

func (tt *testTracker) stop() {
	_ = tt.tr.Close()
	_ = tt.h.Close()
}

func (e *treeEnv) trackerInfos() []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, tt := range e.trackers {
		out = append(out, tt.info)
	}
	return out
}

func (e *treeEnv) addNode(maxChildren int) *testNode {
	e.t.Helper()
	h, err := p2p.NewHost(p2p.HostParams{})
	if err != nil {
		e.t.Fatal(err)
	}
	n, err := node.New(node.Params{Host: h, OriginKey: e.key, Trackers: e.trackerInfos(), Streams: []string{treeStream},
		MaxChildren: maxChildren, Logger: e.log.With("component", "node"), Registry: prometheus.NewRegistry()})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	tn := &testNode{h: h, n: n}
	e.nodes = append(e.nodes, tn)
	return tn
}

func (tn *testNode) kill() {
	tn.killed = true
	_ = tn.n.Close()
	_ = tn.h.Close()
}

func (e *treeEnv) alive() []*testNode {
	var out []*testNode
	for _, tn := range e.nodes {
		if !tn.killed {
			out = append(out, tn)
		}
	}
	return out
}

// newest is the highest media sequence a node holds for a rendition.
func newest(n *node.Node, rendition string) (uint64, bool) {
	seqs := n.Sequences(treeStream, rendition)
	if len(seqs) == 0 {
		return 0, false
	}
	return slices.Max(seqs), true
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		<-tick.C
	}
}

// TestRelayTree30Nodes covers the relay tree acceptance points 1-3: 30
// relay nodes under a real origin fed by real ffmpeg; five interior nodes
// killed; the first tracker stopped (the second takes over) and restarted.
func TestRelayTree30Nodes(t *testing.T) {
	const (
		nNodes     = 30
		fanout     = 3
		rootFanout = 3
		killed     = 5
	)
	dir := t.TempDir()
	e := &treeEnv{t: t, log: quietLogger(t), cfg: config.Default()}
	e.cfg.DataDir = dir
	e.cfg.Origin.HTTP, e.cfg.Origin.RTMP = "127.0.0.1:0", "127.0.0.1:0"
	e.cfg.Origin.P2P = config.P2P{Listen: loopbackP2P()}
	e.cfg.Origin.RelayChildren = rootFanout
	e.cfg.Origin.Transcode.Preset = "ultrafast"
	e.cfg.Origin.Streams = []config.Stream{{ID: treeStream, Key: "tree-secret-key"}}

	// Two trackers; the first on a fixed port so it can come back there.
	t1Listen := []string{"/ip4/127.0.0.1/tcp/" + freePort(t)}
	t1Identity := dir + "/t1.key"
	e.trackers = append(e.trackers, e.startTracker(t1Identity, t1Listen), e.startTracker("", nil))
	t.Cleanup(func() {
		for _, tt := range e.trackers {
			tt.stop()
		}
	})

	st, err := startOriginStack(context.Background(), e.cfg, e.trackerInfos(), nil, nil, e.log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.stack = st
	e.key = st.o.PublicKey()
	for range nNodes {
		e.addNode(fanout)
	}
	t.Cleanup(func() {
		for _, tn := range e.alive() {
			tn.kill()
		}
	})

	pub, err := testsrc.Start(context.Background(), testsrc.Params{URL: "rtmp://" + st.o.RTMPAddr() + "/live/tree-secret-key",
		Width: 854, Height: 480, FPS: 30, Audio: true, Realtime: true, Bitrate: "800k", Duration: 34 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	renditions := []string{"480p", "144p"}

	// Every node attached and receiving.
	waitUntil(t, 30*time.Second, "all nodes receiving segments", func() bool {
		for _, tn := range e.alive() {
			if _, ok := newest(tn.n, "144p"); !ok {
				return false
			}
		}
		return true
	})
	deadline := time.Now().Add(10 * time.Second)
	for attached(e.trackers[0].tr.Snapshot(treeStream)) != nNodes {
		if time.Now().After(deadline) {
			s := e.trackers[0].tr.Snapshot(treeStream)
			for _, ns := range s.Nodes {
				if ns.Parent == "" && ns.ID != s.Root {
					for _, tn := range e.nodes {
						if tn.h.ID().String() == ns.ID {
							t.Logf("unattached in tracker: %+v; node says parent %s", ns, tn.n.Parent(treeStream))
						}
					}
				}
			}
			t.Fatalf("first tracker holds %d of %d nodes (%d listed)", attached(s), nNodes, len(s.Nodes)-1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	snap := e.trackers[0].tr.Snapshot(treeStream)
	checkTree(t, snap, nNodes, fanout)

	// Kill five interior nodes (nodes with children), deepest first so
	// their subtrees are all different.
	var interior []tracker.NodeState
	for _, ns := range snap.Nodes {
		if ns.ID != snap.Root && ns.Children > 0 {
			interior = append(interior, ns)
		}
	}
	if len(interior) < killed {
		t.Fatalf("only %d interior nodes in %+v", len(interior), snap)
	}
	byID := map[string]*testNode{}
	for _, tn := range e.nodes {
		byID[tn.h.ID().String()] = tn
	}
	orphans := map[*testNode]bool{}
	victims := map[string]bool{}
	for _, ns := range interior[:killed] {
		victims[ns.ID] = true
	}
	for _, ns := range snap.Nodes {
		if victims[ns.Parent] && !victims[ns.ID] {
			orphans[byID[ns.ID]] = true
		}
	}
	before, _ := newest(e.nodes[0].n, "144p")
	for id := range victims {
		byID[id].kill()
	}
	orphansDone := func() bool {
		for tn := range orphans {
			if len(tn.n.Reattachments()) == 0 {
				return false
			}
			if s, ok := newest(tn.n, "144p"); !ok || s <= before {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(15 * time.Second); !orphansDone(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			for tn := range orphans {
				s, _ := newest(tn.n, "144p")
				p := tn.n.Parent(treeStream)
				ns, _ := e.trackers[0].tr.Snapshot(treeStream).Node(tn.h.ID().String())
				t.Logf("orphan %s: reattachments %v, newest %d (before %d), parent %s (victim %v), tracker says %+v",
					tn.h.ID(), tn.n.Reattachments(), s, before, p, victims[p.String()], ns)
			}
			snap := e.trackers[0].tr.Snapshot(treeStream)
			for _, tn := range e.alive() {
				ns, _ := snap.Node(tn.h.ID().String())
				t.Logf("node %s: linked to %s, tracker parent %s backup %s", tn.h.ID(), tn.n.Parent(treeStream), ns.Parent, ns.Backup)
			}
			t.Fatal("orphans did not all re-attach and receive within 15s")
		}
	}
	var reatt []time.Duration
	for tn := range orphans {
		reatt = append(reatt, tn.n.Reattachments()...)
	}
	p50, p95 := percentile(reatt, 0.50), percentile(reatt, 0.95)
	t.Logf("re-attach after parent loss: %d re-attachments, p50 %v, p95 %v, max %v", len(reatt), p50, p95, slices.Max(reatt))
	fmt.Printf("relay tree: re-attach p50 %v p95 %v over %d re-attachments (%d interior nodes killed)\n", p50, p95, len(reatt), killed)
	if p95 > time.Second {
		t.Errorf("re-attach p95 %v > 1s", p95)
	}

	// Stop the first tracker: the second takes over, segments keep flowing.
	e.trackers[0].stop()
	mark := maxNewest(e, "144p")
	waitUntil(t, 15*time.Second, "second tracker holds the whole tree", func() bool {
		s := e.trackers[1].tr.Snapshot(treeStream)
		return attached(s) == len(e.alive())
	})
	waitUntil(t, 10*time.Second, "segments flowing while the first tracker is down", func() bool {
		return minNewest(e, "144p") > mark
	})
	// The tree was adopted from the nodes' current links; rebalancing then
	// brings it back within the depth bound.
	waitUntil(t, 20*time.Second, "second tracker's tree within bounds", func() bool {
		return treeOK(e.trackers[1].tr.Snapshot(treeStream), len(e.alive()), fanout) == ""
	})
	checkTree(t, e.trackers[1].tr.Snapshot(treeStream), len(e.alive()), fanout)

	// Restart the first tracker where it was, then stop the second: nodes
	// come back to the first, which rebuilds the tree from heartbeats.
	e.trackers[0] = e.startTracker(t1Identity, t1Listen)
	e.trackers[1].stop()
	mark = maxNewest(e, "144p")
	waitUntil(t, 20*time.Second, "restarted tracker rebuilt the tree", func() bool {
		return attached(e.trackers[0].tr.Snapshot(treeStream)) == len(e.alive())
	})
	waitUntil(t, 20*time.Second, "restarted tracker's tree within bounds", func() bool {
		return treeOK(e.trackers[0].tr.Snapshot(treeStream), len(e.alive()), fanout) == ""
	})
	checkTree(t, e.trackers[0].tr.Snapshot(treeStream), len(e.alive()), fanout)
	waitUntil(t, 10*time.Second, "segments flowing after the tracker came back", func() bool {
		return minNewest(e, "144p") > mark
	})

	// Let the broadcast finish, then compare every node with the root.
	select {
	case <-pub.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("publisher did not finish")
	}
	// The origin's signed records are the truth every node must match.
	base := "http://" + st.o.HTTPAddr() + "/live/" + treeStream + "/"
	originSeqs := func(r string) []uint64 {
		var recs []proto.Segment
		getJSON(t, base+r+"/records.json", &recs)
		var out []uint64
		for _, rec := range recs {
			if rec.Kind == proto.KindMedia {
				out = append(out, rec.Sequence)
			}
		}
		return out
	}
	// The publisher is gone once the origin's transcoder has flushed the
	// last segments; after that the origin's record list is final.
	waitUntil(t, 15*time.Second, "the origin sealed the last segments", func() bool {
		var streams []struct {
			ID   string `json:"id"`
			Live bool   `json:"live"`
		}
		getJSON(t, "http://"+st.o.HTTPAddr()+"/api/v1/streams", &streams)
		return len(streams) == 1 && !streams[0].Live
	})
	waitUntil(t, 15*time.Second, "every node caught up with the origin", func() bool {
		want := originSeqs("144p")
		return len(want) > 0 && minNewest(e, "144p") == want[len(want)-1]
	})
	for _, r := range renditions {
		want := originSeqs(r)
		if len(want) < 12 {
			t.Fatalf("origin has only %d segments of %s", len(want), r)
		}
		for _, seq := range want {
			data := getBytes(t, fmt.Sprintf("%s%s/%d.m4s", base, r, seq))
			for _, tn := range e.alive() {
				rec, got, ok := tn.n.Segment(treeStream, r, proto.KindMedia, seq)
				if !ok {
					t.Errorf("node %s lacks %s/%d", tn.h.ID(), r, seq)
					continue
				}
				if !bytes.Equal(data, got) || rec.VerifyData(e.key, got) != nil {
					t.Errorf("node %s %s/%d differs from the origin", tn.h.ID(), r, seq)
				}
			}
		}
		for _, tn := range e.alive() {
			if got := tn.n.Sequences(treeStream, r); !slices.Equal(got, want) {
				t.Errorf("node %s %s: segments %v, origin %v", tn.h.ID(), r, got, want)
			}
		}
	}
}

func getBytes(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal(getBytes(t, url), v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// treeOK says what is wrong with capacity or depth in a tracker snapshot,
// or "" when nothing is.
func treeOK(s tracker.Snapshot, n, fanout int) string {
	bound := int(math.Ceil(math.Log(float64(n))/math.Log(float64(fanout)))) + 1
	for _, ns := range s.Nodes {
		if ns.MaxChildren > 0 && ns.Children > ns.MaxChildren {
			return fmt.Sprintf("node %s has %d children, max %d", ns.ID, ns.Children, ns.MaxChildren)
		}
	}
	if d := s.MaxDepth(); d > bound {
		return fmt.Sprintf("tree depth %d > ceil(log_%d %d)+1 = %d", d, fanout, n, bound)
	}
	return ""
}

// checkTree asserts capacity and depth in a tracker snapshot.
func checkTree(t *testing.T, s tracker.Snapshot, n, fanout int) {
	t.Helper()
	if msg := treeOK(s, n, fanout); msg != "" {
		t.Error(msg)
	}
	t.Logf("tree: %d nodes, depth %d", len(s.Nodes)-1, s.MaxDepth())
}

func attached(s tracker.Snapshot) int {
	n := 0
	for _, ns := range s.Nodes {
		if ns.ID != s.Root && ns.Parent != "" {
			n++
		}
	}
	return n
}

func minNewest(e *treeEnv, r string) uint64 {
	m := uint64(math.MaxUint64)
	for _, tn := range e.alive() {
		s, _ := newest(tn.n, r)
		m = min(m, s)
	}
	return m
}

func maxNewest(e *treeEnv, r string) uint64 {
	var m uint64
	for _, tn := range e.alive() {
		s, _ := newest(tn.n, r)
		m = max(m, s)
	}
	return m
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(math.Ceil(p*float64(len(s))))-1]
}

// freePort asks the kernel for a free TCP port on loopback.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
