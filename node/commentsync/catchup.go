package commentsync

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/node/comments"
)

// serve answers one catch-up request with a page of Store.Range.
func (s *Sync) serve(st network.Stream) {
	defer st.Close()
	select {
	case s.serving <- struct{}{}:
		defer func() { <-s.serving }()
	default:
		_ = st.Reset() // too many at once: the client retries on the next PeerJoin
		return
	}
	_ = st.SetDeadline(time.Now().Add(s.p.PageTimeout))
	q, err := readRequest(st)
	if err != nil {
		_ = st.Reset()
		return
	}
	s.mu.Lock()
	_, ok := s.streams[q.Stream]
	s.mu.Unlock()
	var page []comments.Comment
	if ok {
		if page, err = s.p.Store.Range(q.Stream, q.After, q.Limit); err != nil {
			s.log.Warn("catch-up range", "stream", q.Stream, "err", err)
			_ = st.Reset()
			return
		}
	}
	if err := writeComments(st, page); err != nil {
		_ = st.Reset()
	}
}

// catchUpLoop pulls, one at a time, from every peer that joins the
// stream's topic (over Window) and every RepairInterval from one random
// topic peer (over RepairWindow).
func (s *Sync) catchUpLoop(stream string, topic *pubsub.Topic, evts *pubsub.TopicEventHandler) {
	defer s.wg.Done()
	joins := make(chan peer.ID)
	s.wg.Go(func() { // forwards PeerJoin events; ends with s.ctx
		for {
			ev, err := evts.NextPeerEvent(s.ctx)
			if err != nil {
				return
			}
			if ev.Type != pubsub.PeerJoin {
				continue
			}
			select {
			case joins <- ev.Peer:
			case <-s.ctx.Done():
				return
			}
			// Pull from the new peer once more after gossipsub's next
			// heartbeats have grafted it into the mesh: a message that a
			// neighbour received between the peer's subscription and that
			// graft is neither forwarded to it nor gossiped to it (the
			// heartbeat grafts before it emits gossip, and gossip skips mesh
			// peers), so only a pull recovers it.
			s.wg.Go(func() {
				t := time.NewTimer(meshSettle)
				defer t.Stop()
				select {
				case <-t.C:
				case <-s.ctx.Done():
					return
				}
				select {
				case joins <- ev.Peer:
				case <-s.ctx.Done():
				}
			})
		}
	})
	repair := time.NewTicker(s.p.RepairInterval)
	defer repair.Stop()
	for {
		var p peer.ID
		window := s.p.Window
		select {
		case <-s.ctx.Done():
			return
		case p = <-joins:
		case <-repair.C:
			peers := topic.ListPeers()
			if len(peers) == 0 {
				continue
			}
			p, window = peers[rand.IntN(len(peers))], s.p.RepairWindow
		}
		if err := s.catchUp(s.ctx, stream, p, window); err != nil && s.ctx.Err() == nil {
			s.m.syncErrs.Inc()
			s.log.Debug("catch-up", "stream", stream, "peer", p, "err", err)
		}
	}
}

// catchUp asks p for its moderation log, then for every comment after
// (own newest − window), in pages. Moderation comes first so that a
// comment deleted while this node was away is tombstoned before it could
// be merged.
func (s *Sync) catchUp(ctx context.Context, stream string, p peer.ID, window time.Duration) error {
	if err := s.pullActions(ctx, stream, p); err != nil {
		return fmt.Errorf("moderation: %w", err)
	}
	var after comments.Cursor
	newest, err := s.p.Store.Latest(stream, 1)
	if err != nil {
		return err
	}
	if len(newest) == 1 {
		from := newest[0].HLC.WallMS - window.Milliseconds()
		after = comments.Cursor{HLC: comments.Timestamp{WallMS: max(from, 0)}}
	}
	for range MaxPages {
		page, err := s.fetch(ctx, p, request{Stream: stream, After: after, Limit: MaxPageSize})
		if err != nil {
			return err
		}
		s.merge(ctx, stream, page)
		if len(page) < MaxPageSize {
			return nil
		}
		after = page[len(page)-1].Cursor()
	}
	return nil
}

// fetch runs one request/response within PageTimeout.
func (s *Sync) fetch(ctx context.Context, p peer.ID, q request) ([]comments.Comment, error) {
	ctx, cancel := context.WithTimeout(ctx, s.p.PageTimeout)
	defer cancel()
	st, err := s.p.Host.NewStream(network.WithAllowLimitedConn(ctx, "catch-up"), p, ProtocolID)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer st.Close()
	deadline, _ := ctx.Deadline()
	_ = st.SetDeadline(deadline)
	if _, err := st.Write(q.encode()); err != nil {
		_ = st.Reset()
		return nil, fmt.Errorf("write: %w", err)
	}
	_ = st.CloseWrite()
	page, err := readComments(st, q.Limit)
	if err != nil {
		_ = st.Reset()
		return nil, err
	}
	return page, nil
}

// merge stores the comments of page that pass the validator's checks and
// are missing here; those younger than Window are republished so that
// neighbours that missed them get them too.
func (s *Sync) merge(ctx context.Context, stream string, page []comments.Comment) {
	var todo []comments.Comment
	for _, c := range page {
		if c.Stream != stream || comments.Validate(c) != nil || s.p.Store.Has(c.ID) ||
			s.p.Store.Deleted(c.ID) || s.p.Store.Banned(c.Stream, c.Author) {
			continue
		}
		if _, err := s.p.Clock.Update(c.HLC); err != nil {
			continue
		}
		todo = append(todo, c)
	}
	if len(todo) == 0 {
		return
	}
	// One Put per comment so that Delivered fires exactly for the new
	// ones; concurrent Puts share the store's group commit.
	fresh := make([]bool, len(todo))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(storeWorkers, len(todo)) {
		wg.Go(func() {
			for i := range next {
				n, err := s.p.Store.PutReplica(ctx, todo[i:i+1])
				fresh[i] = err == nil && n > 0
			}
		})
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()

	s.mu.Lock()
	j := s.streams[stream]
	s.mu.Unlock()
	recent := time.Now().Add(-s.p.Window).UnixMilli()
	for i, c := range todo {
		if !fresh[i] {
			continue
		}
		s.m.caughtUp.Inc()
		s.delivered(c)
		if j == nil || c.HLC.WallMS < recent {
			continue
		}
		if b, err := comments.Encode(c); err == nil {
			_ = j.topic.Publish(ctx, b)
		}
	}
}
