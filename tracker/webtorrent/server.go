package webtorrent

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// closeGrace is how long Close waits for clients to complete the
// WebSocket close handshake before dropping their sockets.
const closeGrace = 2 * time.Second

// Server is the WebTorrent tracker. It is an http.Handler for the
// WebSocket endpoint; create it with New and stop it with Close.
type Server struct {
	p   Params
	lim limits
	m   *metrics
	reg *registry

	mu     sync.Mutex // guards closed, conns
	closed bool
	conns  map[*conn]struct{}
	wg     sync.WaitGroup // handlers and the janitor

	done chan struct{}

	connDone func() // test hook: a connection has been cleaned up
}

// New returns a running tracker; its janitor goroutine (dropping silent
// peers) runs until Close.
func New(p Params) (*Server, error) {
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{p: p, lim: p.limits(), m: m, conns: make(map[*conn]struct{}), done: make(chan struct{})}
	s.reg = newRegistry(&s.p, m)
	s.wg.Add(1)
	go s.janitor()
	return s, nil
}

// ServeHTTP upgrades a GET to the tracker WebSocket, which is then served
// on its own goroutine until it closes or Close is called. A foreign
// Origin gets 403, a closed tracker 503, a request that is not a
// WebSocket upgrade 426.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !originAllowed(r, s.p.AllowedOrigins) {
		s.m.fail(ErrOriginForbidden)
		http.Error(w, ErrOriginForbidden.Error(), http.StatusForbidden)
		return
	}
	relayID, relay := "", false
	if s.p.RelayAuth != nil {
		relayID, relay = s.p.RelayAuth(r)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.p.Logger.Debug("websocket upgrade failed", "err", err, "remote", r.RemoteAddr)
		return
	}
	ws.SetReadLimit(s.p.MaxMessageBytes + 1) // read() reports the excess itself
	addr := clientAddr(r, s.p.TrustForwardedFor)
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{s: s, ws: ws, ctx: ctx, cancel: cancel, addr: addr, network: networkOf(addr),
		relay: relay, relayID: relayID, members: make(map[binID]*member),
		bucket: newTokenBucket(s.p.AnnouncesPerSecond, s.p.AnnounceBurst, s.p.Clock())}
	if !s.track(c) {
		cancel()
		_ = ws.Close(websocket.StatusGoingAway, "tracker shutting down")
		return
	}
	if relay {
		s.p.Logger.Info("relay node connected", "relay", relayID, "addr", addr)
	}
	// The socket is hijacked: serve it on a fresh goroutine and let the
	// HTTP server's end, with its request state and its stack, grown for
	// parsing the request (about 3 KiB less per connection).
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.m.connections.Inc()
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		s.m.connections.Dec()
	}
}

// Close closes every socket (with status 1001), stops the janitor and
// returns when no goroutine of the tracker is left.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	close(s.done)

	var closers sync.WaitGroup
	for _, c := range conns {
		closers.Go(func() { _ = c.ws.Close(websocket.StatusGoingAway, "tracker shutting down") })
	}
	all := make(chan struct{})
	go func() { closers.Wait(); close(all) }()
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-all:
	case <-t.C:
		for _, c := range conns {
			_ = c.ws.CloseNow()
		}
		<-all
	}
	s.wg.Wait()
	return nil
}

// janitor drops silent members every quarter PeerTimeout.
func (s *Server) janitor() {
	defer s.wg.Done()
	t := time.NewTicker(max(time.Second, s.p.PeerTimeout/4))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			if n := s.reg.sweep(s.p.Clock()); n > 0 {
				s.p.Logger.Debug("dropped silent peers", "count", n)
			}
		}
	}
}
