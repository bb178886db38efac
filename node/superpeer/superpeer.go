package superpeer

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync"

	"github.com/pion/webrtc/v4"
)

// SuperPeer joins the browser swarms of the streams a relay node carries
// and uploads segments to browsers. Create it with New, run it with Start,
// stop it with Close.
type SuperPeer struct {
	p      Params
	log    *slog.Logger
	cfg    timing
	api    *webrtc.API
	rtc    webrtc.Configuration
	peerID string
	httpc  *http.Client
	stats  counters

	mu      sync.Mutex
	started bool
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
	swarms  map[string]*swarm // by info hash
	active  int               // registered connections (counted against MaxPeers)
	open    int               // connections with an open data channel
	pcs     map[*webrtc.PeerConnection]struct{}
	sess    *session // current tracker session, nil when disconnected
	wg      sync.WaitGroup
}

// New checks p and prepares a SuperPeer; nothing runs until Start.
func New(p Params) (*SuperPeer, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	api, err := newAPI(p.ICE)
	if err != nil {
		return nil, err
	}
	id, err := NewPeerID(rand.Reader)
	if err != nil {
		return nil, err
	}
	s := &SuperPeer{
		p:      p,
		log:    log.With("component", "superpeer", "peer_id", id),
		cfg:    defaultTiming(),
		api:    api,
		rtc:    webrtc.Configuration{ICEServers: p.ICE.Servers},
		peerID: id,
		httpc:  &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}},
		swarms: map[string]*swarm{},
		pcs:    map[*webrtc.PeerConnection]struct{}{},
	}
	err = s.stats.register(p.Registerer,
		func() float64 { return float64(s.Stats().PeersConnected) },
		func() float64 { return float64(s.Stats().Swarms) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// PeerID returns the node's WebTorrent peer_id ("-CN0100-" + 12 chars).
func (s *SuperPeer) PeerID() string { return s.peerID }

// Start joins the swarms of the Source's streams and keeps them in step
// with its events until Close (or until ctx is cancelled).
func (s *SuperPeer) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started:
		return ErrAlreadyStarted
	}
	s.started = true
	s.ctx, s.cancel = context.WithCancel(ctx)
	events, unsubscribe := s.p.Source.Subscribe()
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		defer unsubscribe()
		s.eventLoop(events)
	}()
	go func() {
		defer s.wg.Done()
		s.trackerLoop()
	}()
	return nil
}

// Close leaves all swarms, closes every browser connection and waits for
// all goroutines to end.
func (s *SuperPeer) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	s.closeConns()
	s.wg.Wait()
	s.mu.Lock()
	pcs := make([]*webrtc.PeerConnection, 0, len(s.pcs))
	for pc := range s.pcs {
		pcs = append(pcs, pc)
	}
	s.pcs = map[*webrtc.PeerConnection]struct{}{}
	s.mu.Unlock()
	for _, pc := range pcs {
		_ = pc.GracefulClose()
	}
	s.httpc.CloseIdleConnections()
	return nil
}

// closeConns closes every browser connection and pending offer.
func (s *SuperPeer) closeConns() {
	s.mu.Lock()
	var conns []*peerConn
	for _, sw := range s.swarms {
		conns = append(conns, sw.allConns()...)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close("shutdown")
	}
}

// Stats returns a snapshot of the counters.
func (s *SuperPeer) Stats() Stats {
	s.mu.Lock()
	swarms, open := len(s.swarms), s.open
	s.mu.Unlock()
	c := &s.stats
	return Stats{
		Swarms:           swarms,
		PeersConnected:   open,
		PeersTotal:       c.peersTotal.Load(),
		BytesSent:        c.bytesSent.Load(),
		SegmentsServed:   c.segmentsServed.Load(),
		RequestsAbsent:   c.requestsAbsent.Load(),
		RequestsCanceled: c.requestsCanceled.Load(),
		OffersRefused:    c.offersRefused.Load(),
		Malformed:        c.malformed.Load(),
		Dropped:          c.dropped.Load(),
		Stalled:          c.stalled.Load(),
		TrackerConnects:  c.trackerConnects.Load(),
	}
}

// goTracked runs f in a goroutine Close waits for, unless Close has begun.
func (s *SuperPeer) goTracked(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// newPC creates a PeerConnection that Close will close; it fails once
// Close has begun.
func (s *SuperPeer) newPC() (*webrtc.PeerConnection, error) {
	pc, err := s.api.NewPeerConnection(s.rtc)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = pc.GracefulClose()
		return nil, ErrClosed
	}
	s.pcs[pc] = struct{}{}
	s.mu.Unlock()
	return pc, nil
}

// releasePC closes pc for good, in the background unless Close is already
// collecting it.
func (s *SuperPeer) releasePC(pc *webrtc.PeerConnection) {
	s.goTracked(func() {
		_ = pc.GracefulClose()
		s.mu.Lock()
		delete(s.pcs, pc)
		s.mu.Unlock()
	})
}

// eventLoop applies Source events until the super-peer stops.
func (s *SuperPeer) eventLoop(events <-chan Event) {
	s.reconcile()
	defer s.closeConns() // a cancelled Start context stops serving too
	for {
		select {
		case <-s.ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				s.log.Warn("source closed its event channel")
				<-s.ctx.Done()
				return
			}
			switch ev.Kind {
			case EventSegment:
				s.segmentAdded(ev.Stream, ev.Rendition)
			case EventStreams:
				s.reconcile()
			}
		}
	}
}

// segmentAdded re-announces a swarm's segments to all its peers now.
func (s *SuperPeer) segmentAdded(stream, rendition string) {
	s.mu.Lock()
	var conns []*peerConn
	for _, sw := range s.swarms {
		if sw.stream == stream && sw.rendition == rendition {
			sw.invalidate()
			conns = append(conns, sw.openConns()...)
		}
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.queueAnnouncement()
	}
}
