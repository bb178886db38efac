package commentsync

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/node/comments"
	"github.com/canopylive/canopy/proto/commentspb"
)

// Reactions and viewer counts: each node counts its own viewers' taps and
// connections and publishes its tally (cumulative reaction counts, current
// viewers) on the stream's tally topic every TallyInterval, signed with its
// libp2p key. Every node keeps the latest tally of each node; the stream's
// totals are their sum. A tap is never a message of its own, and a lost
// tally is replaced by the next one.
const (
	// TallyTopicPrefix + stream is a stream's tally topic.
	TallyTopicPrefix = "/canopy/tally/1/"
	// DefaultTallyInterval is how often a node publishes its tally.
	DefaultTallyInterval = 2 * time.Second
	// maxTallyNodes bounds the nodes counted per stream.
	maxTallyNodes = 10000
	// maxTallySize bounds an encoded signed tally.
	maxTallySize = 1024
	// tallyDomain separates tally signatures from other uses of the key.
	tallyDomain = "canopy/tally/v1\x00"
)

// Totals is a stream's audience across the network.
type Totals struct {
	Reactions map[string]uint64 // cumulative, by kind (every kind present)
	Viewers   int               // connected now
}

func (t Totals) equal(o Totals) bool {
	return t.Viewers == o.Viewers && maps.Equal(t.Reactions, o.Reactions)
}

// tallies is one stream's counting state.
type tallies struct {
	mu        sync.Mutex
	own       map[string]uint64 // this node's cumulative taps
	ownSaved  bool              // own is durable
	seq       uint64
	nodes     map[peer.ID]nodeTally
	delivered Totals
}

type nodeTally struct {
	seq       uint64
	reactions map[string]uint64
	viewers   int
	at        time.Time // when received
}

func newTallies() *tallies {
	return &tallies{own: map[string]uint64{}, ownSaved: true, nodes: map[peer.ID]nodeTally{}}
}

// React counts one reaction of a viewer of this node. It is published with
// the next tally.
func (s *Sync) React(stream, kind string) error {
	if err := comments.ValidateReaction(kind); err != nil {
		return err
	}
	s.mu.Lock()
	j, ok := s.streams[stream]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotJoined, stream)
	}
	j.tally.mu.Lock()
	j.tally.own[kind]++
	j.tally.ownSaved = false
	j.tally.mu.Unlock()
	return nil
}

// Totals returns the stream's current totals.
func (s *Sync) Totals(stream string) (Totals, bool) {
	s.mu.Lock()
	j, ok := s.streams[stream]
	s.mu.Unlock()
	if !ok {
		return Totals{}, false
	}
	j.tally.mu.Lock()
	defer j.tally.mu.Unlock()
	return j.tally.sum(time.Now(), s.staleAfter()), true
}

func (s *Sync) staleAfter() time.Duration { return 3 * s.p.TallyInterval }

// sum adds every node's latest tally; viewers of nodes not heard from
// within stale are not counted. Locked by the caller.
func (t *tallies) sum(now time.Time, stale time.Duration) Totals {
	out := Totals{Reactions: map[string]uint64{}}
	for _, k := range comments.ReactionKinds() {
		out.Reactions[k] = 0
	}
	for _, n := range t.nodes {
		for k, v := range n.reactions {
			out.Reactions[k] += v
		}
		if now.Sub(n.at) <= stale {
			out.Viewers += n.viewers
		}
	}
	return out
}

// restoreTally loads this node's own counts of stream from the store.
func (s *Sync) restoreTally(stream string, t *tallies) {
	b, err := s.p.Store.Tally(stream)
	if err != nil || b == nil {
		return
	}
	var m commentspb.Tally
	if proto.Unmarshal(b, &m) != nil || m.Node != s.p.Host.ID().String() {
		return // another identity's counts: they are that peer's to publish
	}
	for k, v := range m.Reactions {
		if comments.ValidateReaction(k) == nil {
			t.own[k] = v
		}
	}
	t.seq = m.Seq
	t.nodes[s.p.Host.ID()] = nodeTally{seq: m.Seq, reactions: maps.Clone(t.own), at: time.Now()}
}

// tallyLoop publishes this node's tally of stream every TallyInterval.
func (s *Sync) tallyLoop(stream string, j *joined) {
	defer s.wg.Done()
	tick := time.NewTicker(s.p.TallyInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		s.publishTally(stream, j)
	}
}

func (s *Sync) publishTally(stream string, j *joined) {
	viewers := 0
	if s.p.Viewers != nil {
		viewers = max(0, s.p.Viewers(stream))
	}
	now := time.Now()
	t := j.tally
	t.mu.Lock()
	t.seq = max(t.seq+1, uint64(now.UnixMilli()))
	m := &commentspb.Tally{Stream: stream, Node: s.p.Host.ID().String(), Seq: t.seq,
		Reactions: maps.Clone(t.own), Viewers: uint32(min(viewers, 1<<31))}
	t.nodes[s.p.Host.ID()] = nodeTally{seq: t.seq, reactions: maps.Clone(t.own), viewers: viewers, at: now}
	save := !t.ownSaved
	t.ownSaved = true
	t.mu.Unlock()
	s.tallied(stream, t)

	body, err := proto.Marshal(m)
	if err != nil {
		return
	}
	if save {
		if err := s.p.Store.SaveTally(s.ctx, stream, body); err != nil {
			s.log.Warn("save reaction tally", "stream", stream, "err", err)
		}
	}
	key := s.p.Host.Peerstore().PrivKey(s.p.Host.ID())
	if key == nil {
		return
	}
	sig, err := key.Sign(append([]byte(tallyDomain), body...))
	if err != nil {
		return
	}
	env, _ := proto.Marshal(&commentspb.SignedTally{Tally: body, Signature: sig})
	ctx, cancel := context.WithTimeout(s.ctx, s.p.TallyInterval)
	defer cancel()
	_ = j.tallyTopic.Publish(ctx, env)
}

// tallied reports the totals to Params.Tallied when they changed.
func (s *Sync) tallied(stream string, t *tallies) {
	t.mu.Lock()
	tot := t.sum(time.Now(), s.staleAfter())
	changed := !tot.equal(t.delivered)
	if changed {
		t.delivered = tot
	}
	t.mu.Unlock()
	if changed && s.p.Tallied != nil {
		s.p.Tallied(stream, tot)
	}
}

// tallyValidator accepts a correctly signed tally of the stream that is
// newer than the last one of its node, and counts it.
func (s *Sync) tallyValidator(stream string, j *joined) pubsub.ValidatorEx {
	return func(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if from == s.p.Host.ID() {
			return pubsub.ValidationAccept
		}
		id, nt, err := decodeTally(stream, msg.Data)
		if err != nil {
			s.m.validated.WithLabelValues("reject").Inc()
			return pubsub.ValidationReject
		}
		if id == s.p.Host.ID() {
			return pubsub.ValidationIgnore // our own, relayed back
		}
		t := j.tally
		t.mu.Lock()
		prev, seen := t.nodes[id]
		fresh := (!seen && len(t.nodes) < maxTallyNodes) || (seen && nt.seq > prev.seq)
		if fresh {
			t.nodes[id] = nt
		}
		t.mu.Unlock()
		if !fresh {
			return pubsub.ValidationIgnore
		}
		s.tallied(stream, t)
		return pubsub.ValidationAccept
	}
}

// decodeTally checks a signed tally and returns its node and counts.
func decodeTally(stream string, b []byte) (peer.ID, nodeTally, error) {
	if len(b) > maxTallySize {
		return "", nodeTally{}, fmt.Errorf("%w: tally of %d bytes", ErrTooLarge, len(b))
	}
	var env commentspb.SignedTally
	if err := proto.Unmarshal(b, &env); err != nil {
		return "", nodeTally{}, fmt.Errorf("%w: %w", ErrWire, err)
	}
	var m commentspb.Tally
	if err := proto.Unmarshal(env.Tally, &m); err != nil {
		return "", nodeTally{}, fmt.Errorf("%w: %w", ErrWire, err)
	}
	if m.Stream != stream {
		return "", nodeTally{}, fmt.Errorf("%w: tally of stream %q on %q", ErrWire, m.Stream, stream)
	}
	id, err := peer.Decode(m.Node)
	if err != nil {
		return "", nodeTally{}, fmt.Errorf("%w: node: %w", ErrWire, err)
	}
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return "", nodeTally{}, fmt.Errorf("%w: node key: %w", ErrWire, err)
	}
	if ok, err := pub.Verify(append([]byte(tallyDomain), env.Tally...), env.Signature); err != nil || !ok {
		return "", nodeTally{}, fmt.Errorf("%w: tally signature", ErrWire)
	}
	nt := nodeTally{seq: m.Seq, reactions: make(map[string]uint64, len(m.Reactions)), viewers: int(m.Viewers), at: time.Now()}
	for k, v := range m.Reactions {
		if comments.ValidateReaction(k) != nil {
			return "", nodeTally{}, fmt.Errorf("%w: reaction kind %q", ErrWire, k)
		}
		nt.reactions[k] = v
	}
	return id, nt, nil
}
