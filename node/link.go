package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// Timing of the parent link.
const (
	dialTimeout        = 5 * time.Second
	defaultSegDuration = 2 * time.Second
	stallFactor        = 3 // segment durations without a segment before a live parent counts as lost
	avoidFor           = 5 * time.Second
	maxBackoff         = 5 * time.Second
	minBackoff         = 100 * time.Millisecond
)

// Reasons a healthy link ends without counting as a lost parent.
var (
	// errSwitch: the assignment changed.
	errSwitch = errors.New("node: parent reassigned")
	// errResync: the parent skipped segments; subscribe again to back-fill.
	errResync = errors.New("node: parent skipped segments")
)

// runLink keeps the stream attached to a parent for as long as ctx lives:
// the assigned parent first, the backup when the parent fails, and back to
// the assignment when it changes.
func (s *stream) runLink(ctx context.Context) {
	avoid := map[peer.ID]time.Time{}
	var lost time.Time // when the previous link failed; zero if none
	backoff := minBackoff
	for ctx.Err() == nil {
		target, ok := s.pickTarget(avoid)
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-s.assignCh:
				// The tracker's fresh word beats our memory of failures.
				clear(avoid)
				continue
			case <-time.After(backoff):
				clear(avoid) // nothing else to try: retry everyone
				backoff = min(2*backoff, maxBackoff)
				continue
			}
		}
		attached, err := s.follow(ctx, target, &lost)
		s.setParentID("")
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errResync) {
			continue
		}
		if errors.Is(err, errSwitch) {
			// A switch the tracker asked for (often because the parent just
			// died) is a re-attachment too: time it the same way. The new
			// assignment may name a peer that failed us moments ago while
			// the tree was changing; give it a fresh chance.
			if lost.IsZero() {
				lost = s.n.now()
			}
			clear(avoid)
			continue
		}
		s.log.Info("parent lost", "parent", target.ID.String(), "err", err)
		avoid[target.ID] = time.Now().Add(avoidFor)
		if lost.IsZero() {
			lost = s.n.now()
		}
		if errors.Is(err, ErrBadSegment) || errors.Is(err, ErrProtocol) || errors.Is(err, ErrBadInfo) {
			s.n.report(target.ID, s.name, err.Error())
		}
		if attached {
			backoff = minBackoff
		}
	}
}

// pickTarget returns the first of parent and backup that is not avoided.
func (s *stream) pickTarget(avoid map[peer.ID]time.Time) (peer.AddrInfo, bool) {
	a := s.assignment()
	now := time.Now()
	for id, until := range avoid {
		if now.After(until) {
			delete(avoid, id)
		}
	}
	for _, p := range []peer.AddrInfo{a.parent, a.backup} {
		if p.ID == "" || p.ID == s.n.p.Host.ID() {
			continue
		}
		if _, bad := avoid[p.ID]; !bad {
			return p, true
		}
	}
	return peer.AddrInfo{}, false
}

// follow attaches to target and ingests until the link ends. *lost is the
// time the previous link failed; follow records the re-attach time and
// clears it at the first segment. attached reports whether the link got
// as far as a message from the parent.
func (s *stream) follow(ctx context.Context, target peer.AddrInfo, lost *time.Time) (attached bool, err error) {
	h := s.n.p.Host
	// The node paces its own retries; the swarm's dial backoff would
	// otherwise refuse a parent that has just come back.
	dctx, cancel := context.WithTimeout(network.WithForceDirectDial(ctx, "canopy parent"), dialTimeout)
	defer cancel()
	if len(target.Addrs) > 0 {
		h.Peerstore().AddAddrs(target.ID, target.Addrs, time.Hour)
	}
	st, err := s.dial(dctx, cancel, target)
	if err != nil {
		return false, err
	}
	from, liveEdge := s.resumePoint()
	bc := s.info().Broadcast
	sub := &treepb.TreeMessage{Msg: &treepb.TreeMessage_Subscribe{Subscribe: &treepb.Subscribe{
		Stream: s.name, FromSequence: from, LiveEdge: liveEdge, Broadcast: bc,
	}}}
	_ = st.SetWriteDeadline(time.Now().Add(dialTimeout))
	if err := proto.WriteMessage(st, sub); err != nil {
		_ = st.Reset()
		return false, fmt.Errorf("subscribe: %w", err)
	}
	s.setParentID(target.ID)
	s.log.Debug("attached", "parent", target.ID.String(), "from", from, "live_edge", liveEdge)

	done := make(chan error, 1)
	progress := make(chan struct{}, 1)
	go func() { done <- s.ingest(st, progress, lost) }()
	timer := time.NewTimer(s.stallTimeout())
	defer timer.Stop()
	ack := time.NewTicker(ackInterval)
	defer ack.Stop()
	for {
		select {
		case <-ack.C:
			// Writes here are small and rare; a parent that cannot take
			// them is gone, and the read side will notice.
			_ = st.SetWriteDeadline(time.Now().Add(ackInterval))
			if err := proto.WriteMessage(st, &treepb.TreeMessage{Msg: &treepb.TreeMessage_Ack{Ack: &treepb.Ack{}}}); err != nil {
				_ = st.Reset()
				<-done
				return attached, fmt.Errorf("ack: %w", err)
			}
		case err := <-done:
			_ = st.Reset()
			return attached, err
		case <-progress:
			if !attached {
				s.n.rememberParent(target.ID, st.Conn().RemoteMultiaddr(), target.Addrs)
			}
			attached = true
			timer.Reset(s.stallTimeout())
		case <-timer.C:
			if i := s.info(); i.Broadcast != "" && !i.Ended {
				_ = st.Reset()
				<-done
				return attached, ErrStalled
			}
			timer.Reset(s.stallTimeout())
		case <-s.assignCh:
			// Follow the tracker's parent, even away from our backup: the
			// tracker counts this node among its parent's children, and a
			// node that lingers on its backup holds a slot the tracker has
			// promised to someone else.
			if a := s.assignment(); a.parent.ID != "" && a.parent.ID != target.ID {
				_ = st.Reset()
				<-done
				return attached, errSwitch
			}
		case <-ctx.Done():
			_ = st.Reset()
			<-done
			return attached, ctx.Err()
		}
	}
}

// dial opens the tree stream to target, giving up at once if the tracker
// reassigns the node away from target meanwhile: a dead peer's QUIC address
// can take the whole dial timeout to fail.
func (s *stream) dial(ctx context.Context, cancel context.CancelFunc, target peer.AddrInfo) (network.Stream, error) {
	type result struct {
		st  network.Stream
		err error
	}
	res := make(chan result, 1)
	go func() {
		st, err := s.n.p.Host.NewStream(ctx, target.ID, proto.TreeProtocol)
		res <- result{st, err}
	}()
	for {
		select {
		case r := <-res:
			if r.err != nil {
				return nil, fmt.Errorf("open tree stream: %w", r.err)
			}
			return r.st, nil
		case <-s.assignCh:
			if a := s.assignment(); a.parent.ID != "" && a.parent.ID != target.ID {
				cancel()
				if r := <-res; r.st != nil {
					_ = r.st.Reset()
				}
				return nil, errSwitch
			}
		}
	}
}

func (s *stream) stallTimeout() time.Duration {
	d := s.info().SegmentDuration
	if d <= 0 {
		d = defaultSegDuration
	}
	return stallFactor * d
}

func (s *stream) resumePoint() (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.resume()
}

// ingest reads the parent's messages, verifying every segment before it is
// cached and forwarded. It returns the reason the link ended.
func (s *stream) ingest(st network.Stream, progress chan<- struct{}, lost *time.Time) error {
	r := bufio.NewReaderSize(st, 64<<10)
	for {
		var m treepb.TreeMessage
		if err := proto.ReadMessage(r, &m, 0); err != nil {
			if errors.Is(err, proto.ErrBadMessage) {
				return fmt.Errorf("%w: %w", ErrProtocol, err)
			}
			return err
		}
		switch msg := m.Msg.(type) {
		case *treepb.TreeMessage_Info:
			info, err := infoFromPB(msg.Info)
			if err != nil {
				return err
			}
			if info.Stream != s.name {
				return fmt.Errorf("%w: info for stream %q", ErrBadInfo, info.Stream)
			}
			s.setInfo(info)
		case *treepb.TreeMessage_Segment:
			if err := s.ingestSegment(msg.Segment); err != nil {
				s.n.metrics.segments.WithLabelValues("rejected").Inc()
				return err
			}
			if !lost.IsZero() {
				s.n.recordReattach(s.n.now().Sub(*lost))
				*lost = time.Time{}
			}
		case *treepb.TreeMessage_Skipped:
			s.log.Info("parent skipped segments", "from", msg.Skipped.FromSequence, "to", msg.Skipped.ToSequence)
			// The parent still holds them: subscribe again from the gap.
			s.n.metrics.skippedIn.Inc()
			return errResync
		default:
			return fmt.Errorf("%w: unexpected message from parent", ErrProtocol)
		}
		select {
		case progress <- struct{}{}:
		default:
		}
	}
}

func (s *stream) ingestSegment(pb *treepb.Segment) error {
	if pb == nil {
		return fmt.Errorf("%w: empty segment message", ErrProtocol)
	}
	rec, err := proto.SegmentFromPB(pb.Record)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSegment, err)
	}
	if err := s.checkSegment(rec, pb.Data); err != nil {
		return err
	}
	s.add(rec, pb.Data)
	return nil
}
