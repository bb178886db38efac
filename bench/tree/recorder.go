package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/proto"
)

// Polling for a received segment to show up in the node's cache.
const (
	cachePoll    = 100 * time.Microsecond
	cacheTimeout = 10 * time.Second
)

// recorder collects the arrivals of media segments at the relay nodes.
type recorder struct {
	stream string
	ctx    context.Context
	wg     sync.WaitGroup

	mu       sync.Mutex
	arrivals map[arrivalKey]arrival
	scanErrs int
	changed  chan struct{} // signalled on every new arrival
}

func newRecorder(ctx context.Context, stream string) *recorder {
	return &recorder{
		stream: stream, ctx: ctx,
		arrivals: map[arrivalKey]arrival{}, changed: make(chan struct{}, 1),
	}
}

// tap returns the frameFunc of relay node i.
func (r *recorder) tap(i int, n func() *node.Node) frameFunc {
	return func(parent peer.ID, head []byte, at time.Time) {
		id, err := parseSegmentHead(head)
		if err != nil || id.Kind != proto.KindMedia {
			return // stream info, init segments
		}
		k := arrivalKey{Node: i, Seg: id}
		r.mu.Lock()
		if _, dup := r.arrivals[k]; dup {
			r.mu.Unlock()
			return // a back-filled copy after a resync
		}
		r.arrivals[k] = arrival{Parent: parent.String(), Recv: at}
		r.mu.Unlock()
		r.wg.Add(1)
		go r.watchCache(k, n())
	}
}

// watchCache waits for k to be in the node's cache and records when.
func (r *recorder) watchCache(k arrivalKey, n *node.Node) {
	defer r.wg.Done()
	t := time.NewTicker(cachePoll)
	defer t.Stop()
	deadline := time.Now().Add(cacheTimeout)
	for time.Now().Before(deadline) {
		if _, found := slices.BinarySearch(n.Sequences(r.stream, k.Seg.Rendition), k.Seg.Sequence); found {
			at := time.Now()
			r.mu.Lock()
			a := r.arrivals[k]
			a.Cached = at
			r.arrivals[k] = a
			r.mu.Unlock()
			select {
			case r.changed <- struct{}{}:
			default:
			}
			return
		}
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *recorder) scanError(error) {
	r.mu.Lock()
	r.scanErrs++
	r.mu.Unlock()
}

// cachedAll reports whether every relay node has cached every segment in want.
func (r *recorder) cachedAll(nodes int, want []segmentID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range nodes {
		for _, s := range want {
			if a, ok := r.arrivals[arrivalKey{Node: i, Seg: s}]; !ok || a.Cached.IsZero() {
				return false
			}
		}
	}
	return true
}

// waitAll waits until cachedAll or ctx ends; it reports cachedAll.
func (r *recorder) waitAll(ctx context.Context, nodes int, want []segmentID) bool {
	for !r.cachedAll(nodes, want) {
		select {
		case <-ctx.Done():
			return r.cachedAll(nodes, want)
		case <-r.changed:
		}
	}
	return true
}

// snapshot returns a copy of the arrivals and the scanner error count.
func (r *recorder) snapshot() (map[arrivalKey]arrival, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[arrivalKey]arrival, len(r.arrivals))
	for k, a := range r.arrivals {
		out[k] = a
	}
	return out, r.scanErrs
}
