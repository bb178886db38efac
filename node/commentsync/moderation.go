package commentsync

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/node/comments"
	"github.com/canopylive/canopy/proto"
)

// Moderation replication: signed actions travel on their own topic, and a
// node that joins pulls a peer's whole moderation log (it is small: a
// stream has at most comments.MaxActions) before its comments, so that a
// comment deleted while it was away is tombstoned before it could be
// merged.
const (
	// ModerationTopicPrefix + stream is a stream's moderation topic.
	ModerationTopicPrefix = "/canopy/moderation/1/"
	// ModerationProtocolID serves a stream's moderation log.
	ModerationProtocolID = "/canopy/moderation-sync/1.0.0"
)

// Moderate stores a signed action (applying it here) and publishes it on
// its stream's topic. The caller signed it (comments.SignAction) or
// verified it; it is checked against Params.ModeratorKey again here, so a
// forged action never leaves this node.
func (s *Sync) Moderate(ctx context.Context, sa comments.SignedAction) error {
	b := comments.EncodeSigned(sa)
	if _, err := comments.VerifyAction(s.p.ModeratorKey, b); err != nil {
		return err
	}
	s.mu.Lock()
	j, ok := s.streams[sa.Stream]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotJoined, sa.Stream)
	}
	if _, err := s.p.Clock.Update(sa.At); err != nil {
		return err
	}
	isNew, err := s.p.Store.PutAction(ctx, sa)
	if err != nil {
		return err
	}
	if isNew {
		s.moderated(sa)
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := j.mod.Publish(pctx, b); err != nil {
		s.log.Warn("publish moderation failed; peers will repair from the store", "stream", sa.Stream, "id", sa.ID, "err", err)
	}
	return nil
}

func (s *Sync) moderated(sa comments.SignedAction) {
	s.m.moderated.Inc()
	if s.p.Moderated != nil {
		s.p.Moderated(sa)
	}
}

// modValidator checks a gossiped action's signature and stores it before
// it is forwarded.
func (s *Sync) modValidator(stream string) pubsub.ValidatorEx {
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		r := s.checkAction(ctx, stream, from, msg.Data)
		s.m.validated.WithLabelValues(resultName(r)).Inc()
		return r
	}
}

func (s *Sync) checkAction(ctx context.Context, stream string, from peer.ID, data []byte) pubsub.ValidationResult {
	sa, err := comments.VerifyAction(s.p.ModeratorKey, data)
	if err != nil || sa.Stream != stream {
		if from != s.p.Host.ID() {
			s.log.Warn("rejected a moderation message", "stream", stream, "from", from, "err", err)
		}
		return pubsub.ValidationReject
	}
	if from == s.p.Host.ID() {
		return pubsub.ValidationAccept // Moderate stored it
	}
	if s.p.Store.HasAction(sa.Stream, sa.At, sa.ID) {
		return pubsub.ValidationIgnore
	}
	if _, err := s.p.Clock.Update(sa.At); err != nil {
		return pubsub.ValidationReject
	}
	if err := s.storeAction(ctx, sa); err != nil {
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationAccept
}

func (s *Sync) storeAction(ctx context.Context, sa comments.SignedAction) error {
	isNew, err := s.p.Store.PutAction(ctx, sa)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log.Warn("store moderation", "stream", sa.Stream, "id", sa.ID, "err", err)
		}
		return err
	}
	if isNew {
		s.moderated(sa)
	}
	return nil
}

// serveActions answers a moderation log request: one byte of stream
// length and the stream name; the response is each stored action as
// uvarint(len) + comments.EncodeSigned bytes, ended by uvarint 0.
func (s *Sync) serveActions(st network.Stream) {
	defer st.Close()
	select {
	case s.serving <- struct{}{}:
		defer func() { <-s.serving }()
	default:
		_ = st.Reset()
		return
	}
	_ = st.SetDeadline(time.Now().Add(s.p.PageTimeout))
	stream, err := readString(st, proto.MaxNameLength)
	if err != nil || comments.ValidateStream(stream) != nil {
		_ = st.Reset()
		return
	}
	s.mu.Lock()
	_, ok := s.streams[stream]
	s.mu.Unlock()
	var actions []comments.SignedAction
	if ok {
		if actions, err = s.p.Store.Actions(stream); err != nil {
			_ = st.Reset()
			return
		}
	}
	bw := bufio.NewWriter(st)
	for _, a := range actions {
		b := comments.EncodeSigned(a)
		bw.Write(binary.AppendUvarint(nil, uint64(len(b))))
		bw.Write(b)
	}
	bw.Write([]byte{0})
	if bw.Flush() != nil {
		_ = st.Reset()
	}
}

// pullActions fetches p's moderation log of stream and stores every
// action that verifies and is new here.
func (s *Sync) pullActions(ctx context.Context, stream string, p peer.ID) error {
	ctx, cancel := context.WithTimeout(ctx, s.p.PageTimeout)
	defer cancel()
	st, err := s.p.Host.NewStream(network.WithAllowLimitedConn(ctx, "moderation"), p, ModerationProtocolID)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer st.Close()
	deadline, _ := ctx.Deadline()
	_ = st.SetDeadline(deadline)
	if _, err := st.Write(append([]byte{byte(len(stream))}, stream...)); err != nil {
		_ = st.Reset()
		return fmt.Errorf("write: %w", err)
	}
	_ = st.CloseWrite()
	raw, err := readActions(st)
	if err != nil {
		_ = st.Reset()
		return err
	}
	for _, b := range raw {
		sa, err := comments.VerifyAction(s.p.ModeratorKey, b)
		if err != nil || sa.Stream != stream {
			return fmt.Errorf("%w: peer sent an invalid moderation action: %v", ErrWire, err)
		}
		if s.p.Store.HasAction(sa.Stream, sa.At, sa.ID) {
			continue
		}
		if _, err := s.p.Clock.Update(sa.At); err != nil {
			continue
		}
		if err := s.storeAction(ctx, sa); err != nil {
			return err
		}
	}
	return nil
}

// readActions parses a moderation log response.
func readActions(r io.Reader) ([][]byte, error) {
	br := bufio.NewReader(r)
	var out [][]byte
	for {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return out, fmt.Errorf("%w: length: %w", ErrWire, err)
		}
		if n == 0 {
			return out, nil
		}
		if n > comments.MaxSignedActionSize {
			return out, fmt.Errorf("%w: action of %d bytes", ErrTooLarge, n)
		}
		if len(out) == comments.MaxActions {
			return out, fmt.Errorf("%w: more than %d actions", ErrWire, comments.MaxActions)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return out, fmt.Errorf("%w: body: %w", ErrWire, err)
		}
		out = append(out, b)
	}
}

// ModeratorKey returns the key moderation actions must be signed with.
func (s *Sync) ModeratorKey() ed25519.PublicKey { return s.p.ModeratorKey }
