package commentsync

import (
	"context"
	"errors"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/node/comments"
)

// validator returns the topic validator of stream. A valid remote comment
// is stored before it is accepted (and so forwarded).
func (s *Sync) validator(stream string) pubsub.ValidatorEx {
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		r := s.check(ctx, stream, from, msg.Data)
		s.m.validated.WithLabelValues(resultName(r)).Inc()
		return r
	}
}

func (s *Sync) check(ctx context.Context, stream string, from peer.ID, data []byte) pubsub.ValidationResult {
	if len(data) > MaxMessageSize {
		return pubsub.ValidationReject
	}
	c, err := comments.Decode(data)
	if err != nil || c.Stream != stream || comments.Validate(c) != nil {
		return pubsub.ValidationReject
	}
	if from == s.p.Host.ID() {
		// Post (or a catch-up republish) validated and stored it.
		return pubsub.ValidationAccept
	}
	if s.p.Store.Deleted(c.ID) || s.p.Store.Banned(c.Stream, c.Author) {
		return pubsub.ValidationIgnore
	}
	if s.p.Store.Has(c.ID) {
		return pubsub.ValidationIgnore // got it by catch-up; already forwarded
	}
	if _, err := s.p.Clock.Update(c.HLC); err != nil {
		return pubsub.ValidationReject
	}
	// Stored (as a replica: committed, not flushed) before it is
	// accepted and so forwarded: a node forwards only what it holds.
	if !s.store(ctx, stream, c) {
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationAccept
}

// store writes a validated remote comment and reports it if new.
func (s *Sync) store(ctx context.Context, stream string, c comments.Comment) bool {
	n, err := s.p.Store.PutReplica(ctx, []comments.Comment{c})
	if err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, comments.ErrClosed) {
			s.log.Warn("store gossiped comment", "stream", stream, "id", c.ID, "err", err)
		}
		return false
	}
	if n > 0 {
		s.delivered(c)
	}
	return true
}

func resultName(r pubsub.ValidationResult) string {
	switch r {
	case pubsub.ValidationAccept:
		return "accept"
	case pubsub.ValidationReject:
		return "reject"
	}
	return "ignore"
}
