package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/proto"
)

// Defaults for zero Params fields.
const (
	DefaultWindow            = 10 * time.Minute
	DefaultHeartbeatInterval = time.Second
)

// Params configures a Node.
type Params struct {
	Host      host.Host         // required; the caller owns and closes it
	OriginKey ed25519.PublicKey // required; every segment is checked against it
	Trackers  []peer.AddrInfo   // tried in order; none means no tracker (tests, or Assign by hand)
	Streams   []string          // streams to carry
	// MaxChildren caps children per stream; 0 means no cap.
	MaxChildren int
	UploadKbps  int
	// Window is how much media (by program date-time) the cache keeps.
	Window time.Duration
	// Root marks the origin's node: it gets segments through Publish and
	// serves any stream a child asks for.
	Root              bool
	HeartbeatInterval time.Duration
	Logger            *slog.Logger
	// Registry receives the node's metrics; nil means none are registered.
	// A *prometheus.Registry is also served at GET /metrics by Handler.
	Registry prometheus.Registerer
	Now      func() time.Time
	// DataDir is where the node keeps its Badger database (<DataDir>/db):
	// each stream's last assignment and the addresses its parents were
	// reached at, so that a node restarted while no tracker answers
	// re-attaches to its old parent (or backup). Empty means nothing is
	// persisted.
	DataDir string
	// WHEP, when its URL is set, tells the tracker that this node serves
	// low-latency viewers, so that it can send them here.
	WHEP WHEPAdvert
}

// WHEPAdvert is what a node tells the tracker about its WHEP endpoint.
type WHEPAdvert struct {
	// URL is the base URL viewers reach the node at, scheme://host[:port]
	// (the endpoint is URL/live/{stream}/whep).
	URL string
	// Capacity is how many WHEP viewers the node takes at once (0: the
	// tracker's default).
	Capacity int
	// Sessions, optional, is how many it has now; sent in every heartbeat.
	Sessions func() int
}

// Node is a relay node (or, with Params.Root, the root of every tree).
type Node struct {
	p       Params
	log     *slog.Logger
	metrics *metrics
	db      *store // nil without DataDir, and until Start
	files   *segFiles

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	streams map[string]*stream
	started bool
	closed  bool
	reatt   []time.Duration
	reports chan report
	events  eventHub // for the browser super-peer
}

// New checks p and returns a Node that does nothing until Start.
func New(p Params) (*Node, error) {
	if p.Host == nil {
		return nil, ErrNoHost
	}
	if len(p.OriginKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadKey, len(p.OriginKey))
	}
	for _, s := range p.Streams {
		if !proto.ValidName(s) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownStream, s)
		}
	}
	if p.Window <= 0 {
		p.Window = DefaultWindow
	}
	if p.HeartbeatInterval <= 0 {
		p.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	m, err := newMetrics(p.Registry)
	if err != nil {
		return nil, err
	}
	files, err := newSegFiles(p.DataDir)
	if err != nil {
		return nil, err
	}
	n := &Node{
		p: p, log: p.Logger.With("component", "node"), metrics: m,
		streams: map[string]*stream{},
		reports: make(chan report, 16),
		files:   files,
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for _, s := range p.Streams {
		n.streams[s] = newStream(n, s)
	}
	return n, nil
}

// Start serves the tree protocol, attaches every stream to its assigned
// parent (not in root mode) and talks to the trackers. It returns at once.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	if n.started {
		return ErrStarted
	}
	if n.p.DataDir != "" {
		db, err := openStore(n.p.DataDir, n.log, n.p.Now)
		if err != nil {
			return err
		}
		n.db = db
	}
	n.started = true
	// The node's lifetime is Close's, but a cancelled ctx also stops it.
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		select {
		case <-ctx.Done():
			n.cancel()
		case <-n.ctx.Done():
		}
	}()
	n.p.Host.SetStreamHandler(proto.TreeProtocol, n.handleTree)
	if !n.p.Root {
		for _, s := range n.streams {
			n.restoreLocked(s)
			n.startLinkLocked(s)
		}
	}
	if len(n.p.Trackers) > 0 {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.runTracker(n.ctx)
		}()
	}
	return nil
}

func (n *Node) startLinkLocked(s *stream) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		s.runLink(n.ctx)
	}()
}

// Close stops every link and child and waits for them. The host stays open.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	n.p.Host.RemoveStreamHandler(proto.TreeProtocol)
	n.cancel()
	n.mu.Lock()
	for _, s := range n.streams {
		s.mu.Lock()
		for c := range s.children {
			_ = c.st.Reset()
		}
		s.mu.Unlock()
	}
	n.mu.Unlock()
	n.wg.Wait()
	return errors.Join(n.store().close(), n.files.close())
}

// track adds a goroutine to the wait group unless the node is closed.
func (n *Node) track() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.wg.Add(1)
	return true
}

// stream returns the named stream's state; create makes it if missing.
func (n *Node) stream(name string, create bool) *stream {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.streams[name]
	if s == nil && create && proto.ValidName(name) {
		s = newStream(n, name)
		n.streams[name] = s
		if n.started && !n.closed && !n.p.Root {
			n.startLinkLocked(s)
		}
	}
	return s
}

func (n *Node) streamList() []*stream {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*stream, 0, len(n.streams))
	for _, s := range n.streams {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *stream) int {
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	return out
}

// Assign sets a stream's parent and backup parent (the tracker client calls
// it for every Assignment; tests call it directly). A stream not carried
// yet is added. An empty backup is allowed.
func (n *Node) Assign(stream string, parent, backup peer.AddrInfo) error {
	return n.assign(stream, assignment{parent: parent, backup: backup})
}

func (n *Node) assign(stream string, a assignment) error {
	if n.p.Root {
		return nil // the root has no parent
	}
	s := n.stream(stream, true)
	if s == nil {
		return fmt.Errorf("%w: %q", ErrUnknownStream, stream)
	}
	if s.setAssignment(a) {
		n.persistAssignment(stream, a)
		n.warmUp(a.backup)
	}
	return nil
}

// warmUp connects to a backup parent ahead of need, so that switching to it
// after the parent dies costs one stream, not a connection handshake.
func (n *Node) warmUp(p peer.AddrInfo) {
	if p.ID == "" || p.ID == n.p.Host.ID() || !n.track() {
		return
	}
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(n.ctx, dialTimeout)
		defer cancel()
		if err := n.p.Host.Connect(ctx, p); err != nil {
			n.log.Debug("could not reach the backup parent ahead of need", "backup", p.ID.String(), "err", err)
		}
	}()
}

// Publish is the root's entry point: it verifies a sealed segment, caches
// it and fans it out. A new broadcast in info replaces the old one.
func (n *Node) Publish(info StreamInfo, rec proto.Segment, data []byte) error {
	if !n.p.Root {
		return ErrNotRoot
	}
	if err := info.Validate(); err != nil {
		return err
	}
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSegment, err)
	}
	s := n.stream(info.Stream, true)
	if s == nil {
		return fmt.Errorf("%w: %q", ErrUnknownStream, info.Stream)
	}
	s.setInfo(info)
	if err := s.checkSegment(rec, data); err != nil {
		return err
	}
	s.add(rec, data)
	return nil
}

// Announce updates a stream's description without a segment, for example
// when its broadcast ends (root only). Children get the new StreamInfo.
func (n *Node) Announce(info StreamInfo) error {
	if !n.p.Root {
		return ErrNotRoot
	}
	if err := info.Validate(); err != nil {
		return err
	}
	s := n.stream(info.Stream, true)
	if s == nil {
		return fmt.Errorf("%w: %q", ErrUnknownStream, info.Stream)
	}
	s.setInfo(info)
	return nil
}

// Segment returns a cached segment of a stream's current broadcast (a copy
// of its bytes).
func (n *Node) Segment(stream, rendition string, kind proto.SegmentKind, seq uint64) (proto.Segment, []byte, bool) {
	rec, data, ok := n.segment(stream, rendition, kind, seq)
	rec.Signature = bytes.Clone(rec.Signature)
	return rec, bytes.Clone(data), ok
}

// segment is Segment without the copy; callers must not modify the bytes.
func (n *Node) segment(stream, rendition string, kind proto.SegmentKind, seq uint64) (proto.Segment, []byte, bool) {
	s := n.stream(stream, false)
	if s == nil {
		return proto.Segment{}, nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.cache.lookup(rendition, kind, seq)
	if !ok {
		return proto.Segment{}, nil, false
	}
	return e.rec, e.data, true
}

// entry returns a cached entry; callers must not modify it.
func (n *Node) entry(stream, rendition string, kind proto.SegmentKind, seq uint64) (*entry, bool) {
	s := n.stream(stream, false)
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.lookup(rendition, kind, seq)
}

// Sequences returns a rendition's cached media sequence numbers, ascending.
func (n *Node) Sequences(stream, rendition string) []uint64 {
	s := n.stream(stream, false)
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.sequences(rendition)
}

// Info returns a stream's current StreamInfo (zero if none yet).
func (n *Node) Info(stream string) StreamInfo {
	s := n.stream(stream, false)
	if s == nil {
		return StreamInfo{}
	}
	return s.info()
}

// Parent returns the peer a stream is attached to, or "".
func (n *Node) Parent(stream string) peer.ID {
	s := n.stream(stream, false)
	if s == nil {
		return ""
	}
	id, _, _ := s.state()
	return id
}

// Reattachments returns every re-attach time so far: from losing or
// leaving a parent (on the tracker's word) to the first segment from the
// next one.
func (n *Node) Reattachments() []time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.reatt)
}

func (n *Node) recordReattach(d time.Duration) {
	n.mu.Lock()
	n.reatt = append(n.reatt, d)
	n.mu.Unlock()
	n.metrics.reattach.Observe(d.Seconds())
}

func (n *Node) now() time.Time { return n.p.Now() }
