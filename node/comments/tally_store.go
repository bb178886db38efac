package comments

import (
	"context"
	"fmt"
	"slices"

	badger "github.com/dgraph-io/badger/v4"
)

// prefixTally + stream holds this node's own reaction tally of the stream
// (opaque bytes of the replication layer), so its counts survive a restart.
const prefixTally = "r/"

// SaveTally durably records this node's tally of stream.
func (s *Store) SaveTally(ctx context.Context, stream string, b []byte) error {
	if err := ValidateStream(stream); err != nil {
		return err
	}
	_, err := s.submit(ctx, &op{kind: opSet, key: prefixTally + stream, value: slices.Clone(b)})
	return err
}

// Tally returns what SaveTally recorded for stream, or nil.
func (s *Store) Tally(stream string) ([]byte, error) {
	var v []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		v, err = getValue(txn, []byte(prefixTally+stream))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: tally %s: %w", ErrStore, stream, err)
	}
	return v, nil
}
