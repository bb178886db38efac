package tracker

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/multiformats/go-multiaddr"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// session is one node's tracker stream. The reader runs in the stream
// handler's goroutine, the writer in its own and drains a bounded queue.
// Fields below the line are guarded by Tracker.mu.
type session struct {
	t    *Tracker
	st   network.Stream
	id   string // remote peer ID
	log  *slog.Logger
	out  chan *treepb.TrackerMessage
	done chan struct{}
	once sync.Once

	self        *treepb.Peer
	root        bool
	maxChildren int
	streams     map[string]*wanted
	lastSeen    time.Time
	deferUntil  time.Time // joins wait for the first heartbeat until then
	heard       bool      // a heartbeat arrived
	registered  bool
	// WHEP relay state: the base URL and capacity from the Hello, the
	// sessions from the last Heartbeat, and viewers sent since then.
	whepURL      string
	whepCapacity int
	whepSessions int
	whepHanded   int
}

// wanted is one stream a node carries.
type wanted struct {
	joined   bool
	reported string // the parent the node last reported
}

func newSession(t *Tracker, st network.Stream) *session {
	id := st.Conn().RemotePeer().String()
	return &session{
		t: t, st: st, id: id,
		log:     t.log.With("peer", id),
		out:     make(chan *treepb.TrackerMessage, writeQueueLen),
		done:    make(chan struct{}),
		streams: map[string]*wanted{},
	}
}

// stop ends the session: the writer exits and the stream is reset, which
// ends the reader too.
func (s *session) stop(err error) {
	s.once.Do(func() {
		close(s.done)
		_ = s.st.Reset()
		if err != nil && !errors.Is(err, ErrClosed) {
			s.log.Info("tracker session closed", "reason", err)
		}
	})
}

func (s *session) readLoop() {
	r := bufio.NewReader(s.st)
	_ = s.st.SetReadDeadline(time.Now().Add(s.t.p.HeartbeatTimeout))
	var hello treepb.TrackerMessage
	if err := proto.ReadMessage(r, &hello, MaxMessageSize); err != nil {
		s.t.fail(s, fmt.Errorf("%w: reading hello: %w", ErrBadHello, err))
		return
	}
	if err := s.t.hello(s, hello.GetHello()); err != nil {
		s.t.fail(s, err)
		return
	}
	_ = s.st.SetReadDeadline(time.Time{})
	for {
		var m treepb.TrackerMessage
		if err := proto.ReadMessage(r, &m, MaxMessageSize); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.EOF
			}
			s.t.fail(s, err)
			return
		}
		var err error
		switch {
		case m.GetHeartbeat() != nil:
			err = s.t.heartbeat(s, m.GetHeartbeat())
		case m.GetReport() != nil:
			s.t.report(s, m.GetReport())
		default:
			err = fmt.Errorf("%w: %T after hello", ErrBadMessage, m.GetMsg())
		}
		if err != nil {
			s.t.fail(s, err)
			return
		}
	}
}

func (s *session) writeLoop() {
	defer s.t.wg.Done()
	w := bufio.NewWriter(s.st)
	for {
		var m *treepb.TrackerMessage
		select {
		case <-s.done:
			return
		case m = <-s.out:
		}
		_ = s.st.SetWriteDeadline(time.Now().Add(writeTimeout))
		err := proto.WriteMessage(w, m)
		if err == nil && len(s.out) == 0 {
			err = w.Flush()
		}
		if err != nil {
			s.t.fail(s, fmt.Errorf("write: %w", err))
			return
		}
	}
}

// send queues m; a full queue means the node does not read, and the
// session is dropped. Called with Tracker.mu held.
func (s *session) send(m *treepb.TrackerMessage) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	select {
	case s.out <- m:
		return true
	default:
		return false
	}
}

// validPeer checks the node's own Peer record against the authenticated
// remote peer and keeps at most maxAddrs well-formed multiaddrs.
func validPeer(p *treepb.Peer, remote string) (*treepb.Peer, error) {
	if p.GetId() != remote {
		return nil, fmt.Errorf("%w: self %q is not the remote peer", ErrBadHello, p.GetId())
	}
	out := &treepb.Peer{Id: remote}
	for _, a := range p.GetAddrs() {
		if len(out.Addrs) == maxAddrs {
			break
		}
		if _, err := multiaddr.NewMultiaddrBytes(a); err != nil {
			return nil, fmt.Errorf("%w: address: %w", ErrBadHello, err)
		}
		out.Addrs = append(out.Addrs, append([]byte(nil), a...))
	}
	return out, nil
}

// validStreams checks and de-duplicates stream names.
func validStreams(names []string) ([]string, error) {
	if len(names) > MaxStreamsPerNode {
		return nil, fmt.Errorf("%w: %d streams, at most %d", ErrBadHello, len(names), MaxStreamsPerNode)
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if err := validName(n); err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func validName(n string) error {
	if n == "" || len(n) > maxNameLen {
		return fmt.Errorf("%w: stream name of %d bytes", ErrBadMessage, len(n))
	}
	return nil
}
