package node

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/proto"
)

// stream owns everything about one stream on this node: the cache of its
// current broadcast, the children fed from it, and the assignment of its
// parent link. One mutex guards all of it.
type stream struct {
	name string
	n    *Node
	log  *slog.Logger

	mu       sync.Mutex
	cache    *cache
	children map[*child]struct{}
	assign   assignment
	assignCh chan struct{} // signalled when assign changes
	parentID peer.ID       // peer the link is currently attached to
	// parentChanged is closed (and replaced) when parentID changes.
	parentChanged chan struct{}
}

// assignment is the parent and backup the tracker (or a test) gave.
type assignment struct {
	parent, backup peer.AddrInfo
	candidates     []peer.AddrInfo
}

func newStream(n *Node, name string) *stream {
	return &stream{
		name: name, n: n, log: n.log.With("stream", name),
		cache:    newCache(n.p.Window),
		children: map[*child]struct{}{},
		assignCh: make(chan struct{}, 1),

		parentChanged: make(chan struct{}),
	}
}

// setInfo records a StreamInfo and forwards it when it changed.
func (s *stream) setInfo(i StreamInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cache.info.Broadcast
	if !s.cache.setInfo(i) {
		return
	}
	if old != "" && old != i.Broadcast {
		s.n.files.removeBroadcast(s.name, old)
	}
	s.n.events.notify(superpeer.Event{Kind: superpeer.EventStreams, Stream: s.name})
	f := frame{b: infoFrame(i), kind: frameInfo}
	for c := range s.children {
		s.pushLocked(c, f)
	}
}

// info returns the current StreamInfo.
func (s *stream) info() StreamInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.info
}

// checkSegment validates a record and its data against the stream's
// current broadcast and the origin's key.
func (s *stream) checkSegment(rec proto.Segment, data []byte) error {
	info := s.info()
	switch {
	case rec.Stream != s.name:
		return fmt.Errorf("%w: stream %q on %q", ErrBadSegment, rec.Stream, s.name)
	case info.Broadcast == "" || rec.Broadcast != info.Broadcast:
		return fmt.Errorf("%w: broadcast %q, current %q", ErrBadSegment, rec.Broadcast, info.Broadcast)
	case !info.hasRendition(rec.Rendition):
		return fmt.Errorf("%w: unknown rendition %q", ErrBadSegment, rec.Rendition)
	}
	if err := rec.VerifyData(s.n.p.OriginKey, data); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSegment, err)
	}
	return nil
}

// add caches a verified segment and forwards it to every child. Duplicates
// are ignored. It reports whether the segment was new.
func (s *stream) add(rec proto.Segment, data []byte) bool {
	if !s.addLocked(rec, data) {
		return false
	}
	// File copies for sendfile are written outside the lock; until then the
	// segment is served from memory.
	s.mu.Lock()
	evicted := s.cache.evicted
	s.cache.evicted = nil
	s.mu.Unlock()
	if err := s.n.files.put(rec, data); err != nil {
		s.log.Debug("segment file not written; serving from memory", "err", err)
	}
	for _, r := range evicted {
		s.n.files.remove(r)
	}
	return true
}

func (s *stream) addLocked(rec proto.Segment, data []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.Broadcast != s.cache.info.Broadcast {
		return false // the broadcast changed while it was being verified
	}
	e, fresh := s.cache.add(rec, data)
	if !fresh {
		return false
	}
	if rec.Kind == proto.KindMedia {
		s.n.events.notify(superpeer.Event{Kind: superpeer.EventSegment, Stream: s.name, Rendition: rec.Rendition, Seq: rec.Sequence})
	}
	f := frame{b: e.frame, kind: frameMedia, seq: rec.Sequence}
	if rec.Kind == proto.KindInit {
		f.kind = frameInit
	}
	for c := range s.children {
		s.pushLocked(c, f)
	}
	s.n.metrics.segments.WithLabelValues("accepted").Inc()
	return true
}

func (s *stream) pushLocked(c *child, f frame) {
	if !c.q.push(f) {
		s.n.metrics.drops.Inc()
	}
}

// attach registers a child and returns its back-fill, or false when the
// stream already has limit children (limit 0: no cap).
func (s *stream) attach(c *child, from uint64, liveEdge bool, broadcast string, limit int) ([][]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A peer that subscribes again (after a Skipped, or after its link
	// broke without us noticing) replaces its old subscription.
	for old := range s.children {
		if old.peer == c.peer {
			s.evictLocked(old)
		}
	}
	// One child beyond the declared maximum is admitted: for a moment after
	// the tracker re-plans, a parent may still carry a child that is on its
	// way elsewhere while the child sent to replace it arrives. The tracker
	// itself never plans beyond the maximum.
	if limit > 0 && len(s.children) >= limit+1 {
		// Full: a child whose write has been blocked for stallEvict gives
		// its slot to the newcomer the tracker sent.
		var victim *child
		cut := s.n.p.Now().Add(-stallEvict)
		for old := range s.children {
			if old.stalled(cut) {
				victim = old
				break
			}
		}
		if victim == nil {
			return nil, false
		}
		s.n.log.Info("evicting a stalled child for a new one", "stream", s.name, "stalled", victim.peer.String(), "new", c.peer.String())
		s.evictLocked(victim)
	}
	if broadcast != "" && broadcast != s.cache.info.Broadcast {
		liveEdge = true // its sequence numbers belong to another broadcast
	}
	s.children[c] = struct{}{}
	s.n.metrics.children.Inc()
	return s.cache.backfill(from, liveEdge), true
}

// evictLocked drops a child's subscription; its feed fails on the reset
// stream and detach then finds it gone.
func (s *stream) evictLocked(c *child) {
	delete(s.children, c)
	s.n.metrics.children.Dec()
	_ = c.st.Reset()
}

func (s *stream) detach(c *child) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.children[c]; ok {
		delete(s.children, c)
		s.n.metrics.children.Dec()
	}
}

// metaFrames are the frames re-sent after a child skipped an info or init.
func (s *stream) metaFrames() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache.info.Broadcast == "" {
		return nil
	}
	out := [][]byte{infoFrame(s.cache.info)}
	for _, e := range s.cache.inits() {
		out = append(out, e.frame)
	}
	return out
}

func (s *stream) numChildren() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.children)
}

// setAssignment replaces the parent/backup and wakes the link loop. It
// reports whether the parent or backup (or their addresses) changed.
func (s *stream) setAssignment(a assignment) bool {
	s.mu.Lock()
	changed := !samePeer(s.assign.parent, a.parent) || !samePeer(s.assign.backup, a.backup)
	s.assign = a
	s.mu.Unlock()
	select {
	case s.assignCh <- struct{}{}:
	default:
	}
	return changed
}

func samePeer(a, b peer.AddrInfo) bool {
	return a.ID == b.ID && slices.EqualFunc(a.Addrs, b.Addrs, func(x, y ma.Multiaddr) bool { return x.Equal(y) })
}

func (s *stream) assignment() assignment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.assign
}

func (s *stream) setParentID(id peer.ID) {
	s.mu.Lock()
	if s.parentID != id {
		s.parentID = id
		close(s.parentChanged)
		s.parentChanged = make(chan struct{})
	}
	s.mu.Unlock()
}

// parentWatch returns the current parent and a channel closed when it
// changes.
func (s *stream) parentWatch() (peer.ID, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parentID, s.parentChanged
}

// state is what a heartbeat reports.
func (s *stream) state() (parent peer.ID, last uint64, children int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, _ = s.cache.latest()
	return s.parentID, last, len(s.children)
}

// ParentWatch returns the peer the node currently receives stream from
// ("" when none, or for a stream it does not carry) and a channel closed
// when that changes; the low-latency media follows it (sfu/relay).
func (n *Node) ParentWatch(stream string) (peer.ID, <-chan struct{}) {
	s := n.stream(stream, false)
	if s == nil {
		return "", nil
	}
	return s.parentWatch()
}
