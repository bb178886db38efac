package comments

import (
	"context"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto/commentspb"
)

// MaxActions bounds the moderation actions Actions returns for a stream.
const MaxActions = 10000

// PutAction records a verified moderation action and applies it in the same
// durable transaction: a delete removes the comment and tombstones its ID,
// a ban records the ban. It returns whether the action is new here; an
// action recorded before is not applied twice. Verifying the signature is
// the caller's (VerifyAction, or SignAction for one made here).
func (s *Store) PutAction(ctx context.Context, sa SignedAction) (bool, error) {
	if err := ValidateAction(sa.Action); err != nil {
		return false, err
	}
	if sa.ID != actionID(sa.Body) || len(sa.Sig) == 0 {
		return false, fmt.Errorf("%w: %w: ID or signature missing", ErrInvalid, ErrBadAction)
	}
	n, err := s.submit(ctx, &op{kind: opAction, stream: sa.Stream, action: &sa})
	return n > 0, err
}

// HasAction reports whether the action is recorded.
func (s *Store) HasAction(stream string, at Timestamp, id string) bool {
	return s.exists(actionKey(stream, at, id))
}

// Actions returns the stream's recorded moderation actions in timestamp
// order, at most MaxActions (the oldest).
func (s *Store) Actions(stream string) ([]SignedAction, error) {
	var out []SignedAction
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: actionPrefix(stream), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < MaxActions; it.Next() {
			var sa SignedAction
			err := it.Item().Value(func(v []byte) error {
				var err error
				sa, err = decodeStoredAction(v)
				return err
			})
			if err != nil {
				return err
			}
			out = append(out, sa)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: actions %s: %w", ErrStore, stream, err)
	}
	return out, nil
}

// Announcements returns the stream's announcements still showing at now.
func (s *Store) Announcements(stream string, now time.Time) ([]SignedAction, error) {
	all, err := s.Actions(stream)
	if err != nil {
		return nil, err
	}
	var out []SignedAction
	for _, a := range all {
		if a.Kind == ActAnnounce && a.Until().After(now) {
			out = append(out, a)
		}
	}
	return out, nil
}

// decodeStoredAction parses an action this store recorded after checking
// its signature; it is not verified again.
func decodeStoredAction(v []byte) (SignedAction, error) {
	var env commentspb.SignedAction
	if err := proto.Unmarshal(v, &env); err != nil {
		return SignedAction{}, err
	}
	a, err := decodeAction(env.Action)
	if err != nil {
		return SignedAction{}, err
	}
	return SignedAction{Action: a, ID: actionID(env.Action), Body: env.Action, Sig: env.Signature}, nil
}
