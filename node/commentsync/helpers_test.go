package commentsync

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/node/comments"
)

const testStream = "demo"

// node is one test node: a libp2p host, a Badger store and a Sync.
type node struct {
	t     *testing.T
	dir   string
	h     host.Host
	store *comments.Store
	clock *comments.Clock
	sync  *Sync

	stopOnce sync.Once
	cancel   context.CancelFunc
}

// startNode starts a node on dir (a fresh t.TempDir() when empty) that has
// joined testStream; onStored, when set, is its Delivered.
func startNode(t *testing.T, dir string, onStored func(comments.Comment), opts ...func(*Params)) *node {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n := &node{t: t, dir: dir}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	var err error
	n.store, err = comments.Open(comments.StoreParams{Dir: dir, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	n.store.Start(ctx)
	n.clock, err = comments.NewClock(comments.ClockParams{})
	if err != nil {
		t.Fatal(err)
	}
	// The identity lives with the store, as in a real node's data
	// directory: a restarted node is the same peer.
	n.h, err = p2p.NewHost(p2p.HostParams{IdentityFile: filepath.Join(dir, "node.p2p.key"), Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	p := Params{Host: n.h, Store: n.store, Clock: n.clock, Logger: log, Delivered: onStored}
	for _, o := range opts {
		o(&p)
	}
	n.sync, err = New(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.stop)
	if err := n.sync.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.sync.Join(testStream); err != nil {
		t.Fatal(err)
	}
	return n
}

// stop closes the Sync, the host and the store (once).
func (n *node) stop() {
	n.stopOnce.Do(func() {
		if err := n.sync.Close(); err != nil {
			n.t.Error(err)
		}
		if err := n.h.Close(); err != nil {
			n.t.Error(err)
		}
		n.cancel()
		if err := n.store.Close(); err != nil {
			n.t.Error(err)
		}
	})
}

func connect(t *testing.T, a, b *node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.h.Connect(ctx, peer.AddrInfo{ID: b.h.ID(), Addrs: b.h.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

// newComment returns a valid comment stamped by n's clock.
func (n *node) newComment(text string) comments.Comment {
	nonce, err := comments.NewNonce()
	if err != nil {
		n.t.Fatal(err)
	}
	return comments.NewComment(testStream, "alice", text, n.clock.Now(), nonce)
}

// ids returns the IDs of every comment n stores for testStream.
func (n *node) ids(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var after comments.Cursor
	for {
		page, err := n.store.Range(testStream, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			if out[c.ID] {
				t.Fatalf("Range returned %s twice", c.ID)
			}
			out[c.ID] = true
		}
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].Cursor()
	}
}

func count(t *testing.T, n *node) int {
	t.Helper()
	c, err := n.store.Count(testStream)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// eventually polls cond every 20 ms until it holds or d has passed.
func eventually(t *testing.T, d time.Duration, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what())
		}
		<-tick.C
	}
}

// assertSameSet checks that every node stores exactly want, once each.
func assertSameSet(t *testing.T, nodes []*node, want map[string]bool) {
	t.Helper()
	for i, n := range nodes {
		got := n.ids(t)
		if c := count(t, n); c != len(got) || len(got) != len(want) {
			t.Errorf("node %d: Count %d, distinct %d, want %d", i, c, len(got), len(want))
		}
		for id := range want {
			if !got[id] {
				t.Errorf("node %d lacks %s", i, id)
				break
			}
		}
		for id := range got {
			if !want[id] {
				t.Errorf("node %d has unexpected %s", i, id)
				break
			}
		}
	}
}

func allHave(t *testing.T, nodes []*node, n int) func() bool {
	return func() bool {
		for _, x := range nodes {
			if count(t, x) != n {
				return false
			}
		}
		return true
	}
}

// counts describes what each node holds, for failure messages.
func counts(t *testing.T, nodes []*node) []int {
	var out []int
	for _, n := range nodes {
		out = append(out, count(t, n))
	}
	return out
}

func post(t *testing.T, n *node, text string) comments.Comment {
	t.Helper()
	c := n.newComment(text)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.sync.Post(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func label(i int) string { return fmt.Sprintf("comment %d", i) }

func msg(s string) func() string { return func() string { return s } }

func msgCounts(t *testing.T, s string, nodes []*node) func() string {
	return func() string { return fmt.Sprintf("%s: counts %v", s, counts(t, nodes)) }
}

// drops returns what gossipsub dropped on n, by reason.
func (n *node) drops() map[string]float64 {
	out := map[string]float64{}
	ch := make(chan prometheus.Metric, 64)
	go func() { n.sync.m.dropped.Collect(ch); close(ch) }()
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			continue
		}
		if v := d.GetCounter().GetValue(); v > 0 {
			out[d.GetLabel()[0].GetValue()] = v
		}
	}
	return out
}

// rejected returns how many gossip messages n's validators rejected.
func (n *node) rejected() float64 {
	var d dto.Metric
	if err := n.sync.m.validated.WithLabelValues("reject").Write(&d); err != nil {
		return 0
	}
	return d.GetCounter().GetValue()
}
