package tracker

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/proto"
)

// Limits that bound what one session can cost the tracker.
const (
	MaxMessageSize    = 64 << 10 // one tracker message
	MaxStreamsPerNode = 16       // streams one node may carry
	MaxCandidates     = 8        // RTT candidates listed in an Assignment
	MaxChildrenCap    = 256      // larger max_children are clamped
	DefaultRootFanout = 8        // a root that declares max_children 0
	maxRTTs           = 64       // RTT entries kept per heartbeat
	maxAddrs          = 16       // addresses kept per peer
	maxNameLen        = 128      // stream names and peer IDs
	writeQueueLen     = 64       // messages queued per session
	writeTimeout      = 5 * time.Second
)

// Params configures a Tracker.
type Params struct {
	Host   host.Host
	Logger *slog.Logger
	// Registry receives the tracker's metrics; nil means none.
	Registry prometheus.Registerer
	// HeartbeatTimeout removes a silent node (default 3 s).
	HeartbeatTimeout time.Duration
	// RecoveryWindow after Start is the time during which joining nodes
	// wait for the parent they report, so that a restarted tracker rebuilds
	// the tree as it was (default 3 × HeartbeatTimeout).
	RecoveryWindow time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RootPeers are the peer IDs allowed to say root=true in their Hello
	// (the origin's node). Empty allows any peer: dev and tests only.
	RootPeers []string
}

// Tracker runs the tracker protocol on a libp2p host. All its state (the
// trees, the session table) is guarded by mu.
type Tracker struct {
	p       Params
	log     *slog.Logger
	metrics *metrics

	mu          sync.Mutex
	trees       map[string]*Tree
	sessions    map[string]*session // by peer ID (string form)
	pending     map[*session]struct{}
	dirty       map[string]struct{} // trees whose changes are not yet sent
	stops       []stopReq           // sessions to stop once mu is released
	rootID      string
	rootMax     int
	recoveryEnd time.Time
	started     bool
	closed      bool
	ctx         context.Context
	cancel      context.CancelFunc

	wg sync.WaitGroup
}

type stopReq struct {
	s   *session
	err error
}

// New returns a tracker; Start begins serving.
func New(p Params) (*Tracker, error) {
	if p.Host == nil {
		return nil, ErrNoHost
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.HeartbeatTimeout <= 0 {
		p.HeartbeatTimeout = 3 * time.Second
	}
	if p.RecoveryWindow <= 0 {
		p.RecoveryWindow = 3 * p.HeartbeatTimeout
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	m, err := newMetrics(p.Registry)
	if err != nil {
		return nil, fmt.Errorf("tracker metrics: %w", err)
	}
	return &Tracker{
		p: p, log: p.Logger.With("component", "tracker"), metrics: m,
		trees: map[string]*Tree{}, sessions: map[string]*session{},
		pending: map[*session]struct{}{}, dirty: map[string]struct{}{},
	}, nil
}

// Start registers the tracker protocol handler and the liveness sweep.
// Cancelling ctx has the effect of Close, minus the wait.
func (t *Tracker) Start(ctx context.Context) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	if t.started {
		t.mu.Unlock()
		return nil
	}
	t.started = true
	t.ctx, t.cancel = context.WithCancel(ctx)
	t.recoveryEnd = t.p.Now().Add(t.p.RecoveryWindow)
	t.wg.Add(1)
	t.mu.Unlock()
	t.p.Host.SetStreamHandler(proto.TrackerProtocol, t.handle)
	go t.sweep()
	return nil
}

// Close removes the handler, ends every session and waits for the
// tracker's goroutines.
func (t *Tracker) Close() error {
	t.shutdown()
	t.wg.Wait()
	return nil
}

func (t *Tracker) shutdown() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	started := t.started
	if t.cancel != nil {
		t.cancel()
	}
	for _, s := range t.sessions {
		t.stops = append(t.stops, stopReq{s, ErrClosed})
	}
	for s := range t.pending {
		delete(t.pending, s)
	}
	stops := t.takeStops()
	t.mu.Unlock()
	if started {
		t.p.Host.RemoveStreamHandler(proto.TrackerProtocol)
	}
	runStops(stops)
}

// sweep removes silent sessions, forces deferred joins whose wait is over
// and rebalances the trees now and then.
func (t *Tracker) sweep() {
	defer t.wg.Done()
	every := max(t.p.HeartbeatTimeout/4, 10*time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-t.ctx.Done():
			t.shutdown()
			return
		case <-tick.C:
		}
		t.mu.Lock()
		now := t.p.Now()
		for _, s := range t.sessions {
			if now.Sub(s.lastSeen) > t.p.HeartbeatTimeout {
				t.removeLocked(s, ErrHeartbeatLate)
			}
		}
		t.joinPendingLocked(now)
		if !now.Before(t.recoveryEnd) {
			for name, tr := range t.trees {
				if moved := tr.Rebalance(); moved > 0 {
					t.metrics.moves.Add(float64(moved))
					t.dirty[name] = struct{}{}
				}
			}
		}
		t.flushLocked()
		stops := t.takeStops()
		t.mu.Unlock()
		runStops(stops)
	}
}

// Snapshot returns the tree of one stream; empty when nobody carries it.
func (t *Tracker) Snapshot(stream string) Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.trees[stream]; ok {
		return tr.Snapshot()
	}
	return Snapshot{Stream: stream, Nodes: []NodeState{}}
}

// Snapshots returns the trees of all streams, sorted by stream.
func (t *Tracker) Snapshots() []Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Snapshot, 0, len(t.trees))
	for _, tr := range t.trees {
		out = append(out, tr.Snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stream < out[j].Stream })
	return out
}

// treeLocked returns the tree of stream, creating it (with the current
// root) when needed.
func (t *Tracker) treeLocked(stream string) *Tree {
	tr, ok := t.trees[stream]
	if !ok {
		tr = NewTree(stream)
		if t.rootID != "" {
			_ = tr.SetRoot(t.rootID, t.rootMax) // a new tree has no root yet
		}
		t.trees[stream] = tr
		t.metrics.streams.Set(float64(len(t.trees)))
	}
	return tr
}

func (t *Tracker) takeStops() []stopReq {
	s := t.stops
	t.stops = nil
	return s
}

func runStops(stops []stopReq) {
	for _, r := range stops {
		r.s.stop(r.err)
	}
}

// handle serves one node's tracker stream.
func (t *Tracker) handle(st network.Stream) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = st.Reset()
		return
	}
	s := newSession(t, st)
	t.wg.Add(2)
	t.mu.Unlock()
	go s.writeLoop()
	defer t.wg.Done()
	s.readLoop()
}
