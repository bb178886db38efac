package comments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	badger "github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto/commentspb"
)

// Defaults for StoreParams.
const (
	DefaultQueueSize = 4096
	DefaultMaxBatch  = 256

	// A few MB of memory rather than Badger's server defaults.
	storeMemTable   = 8 << 20
	storeVlogFile   = 64 << 20
	storeBlockCache = 8 << 20
)

// StoreParams configures a Store.
type StoreParams struct {
	// Dir is the Badger directory; required.
	Dir string
	// Logger receives the store's and Badger's warnings; slog.Default()
	// when nil.
	Logger *slog.Logger
	// QueueSize bounds the writes (Put, Delete, Ban calls) waiting for the
	// writer; a caller blocks while it is full. DefaultQueueSize when zero.
	QueueSize int
	// MaxBatch bounds the comments committed in one transaction (one
	// fsync); DefaultMaxBatch when zero. 1 turns group commit off (one
	// fsync per call), which only the benchmark's baseline wants.
	MaxBatch int
}

// Store holds a node's comments, tombstones and bans in Badger. Reads go
// straight to Badger; every write goes through one writer goroutine
// (started by Start) that group-commits: it takes all the writes waiting in
// its queue, up to MaxBatch comments, applies them in one transaction,
// flushes it to disk (DB.Sync) and only then answers their callers, so that
// many callers share one fsync and a write that returned nil survives a
// crash. Replicas (PutReplica) are the exception: a group of replicas only
// is answered once committed, without the flush.
type Store struct {
	log      *slog.Logger
	maxBatch int
	queue    chan *op

	startOnce sync.Once
	stopOnce  sync.Once
	stop      chan struct{} // closed by Close
	exited    chan struct{} // closed when the writer is gone (or never ran)

	commits atomic.Int64 // durable transactions committed (for tests and metrics)

	mu sync.RWMutex // write-locked only by Close
	db *badger.DB   // nil once closed
}

// Open opens (or creates) the store in p.Dir. Writes wait until Start.
func Open(p StoreParams) (*Store, error) {
	if p.Dir == "" {
		return nil, fmt.Errorf("%w: empty Dir", ErrParams)
	}
	if p.QueueSize < 0 || p.MaxBatch < 0 {
		return nil, fmt.Errorf("%w: QueueSize %d, MaxBatch %d", ErrParams, p.QueueSize, p.MaxBatch)
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.QueueSize == 0 {
		p.QueueSize = DefaultQueueSize
	}
	if p.MaxBatch == 0 {
		p.MaxBatch = DefaultMaxBatch
	}
	log := p.Logger.With("component", "comments")
	opts := badger.DefaultOptions(p.Dir).
		WithLogger(badgerLogger{log}).
		WithLoggingLevel(badger.WARNING).
		// Commits are not flushed by Badger: the writer calls DB.Sync
		// after a group that holds a write which must be durable (see
		// Put and PutReplica).
		WithSyncWrites(false).
		WithDetectConflicts(false). // one writer goroutine
		WithMemTableSize(storeMemTable).
		WithNumMemtables(2).
		WithValueLogFileSize(storeVlogFile).
		WithBlockCacheSize(storeBlockCache).
		WithNumCompactors(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithMetricsEnabled(false)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrStore, p.Dir, err)
	}
	return &Store{
		log:      log,
		maxBatch: p.MaxBatch,
		queue:    make(chan *op, p.QueueSize),
		stop:     make(chan struct{}),
		exited:   make(chan struct{}),
		db:       db,
	}, nil
}

// Start starts the writer. It stops when ctx is done or at Close, after
// writing what is already queued. Later calls do nothing.
func (s *Store) Start(ctx context.Context) {
	s.startOnce.Do(func() { go s.run(ctx) })
}

// Close stops the writer (after it has written what is queued) and closes
// Badger. Writes not yet queued fail with ErrClosed. Later calls do nothing.
func (s *Store) Close() error {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.startOnce.Do(func() { close(s.exited) }) // never started
	})
	<-s.exited
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	if err != nil {
		return fmt.Errorf("%w: close: %w", ErrStore, err)
	}
	return nil
}

// view runs fn in a read transaction.
func (s *Store) view(fn func(txn *badger.Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	return s.db.View(fn)
}

// Range returns up to limit comments of stream that come strictly after
// the cursor, in ascending total order. Page with the last one's Cursor().
func (s *Store) Range(stream string, after Cursor, limit int) ([]Comment, error) {
	if err := ValidateStream(stream); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	start := positionKey(stream, after.HLC, after.ID)
	var out []Comment
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: streamPrefix(stream), PrefetchValues: true, PrefetchSize: min(limit, 100)})
		defer it.Close()
		for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
			if string(it.Item().Key()) == string(start) {
				continue
			}
			c, err := decodeItem(it.Item())
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: range %s: %w", ErrStore, stream, err)
	}
	return out, nil
}

// Latest returns the last n comments of stream, in ascending order.
func (s *Store) Latest(stream string, n int) ([]Comment, error) {
	if err := ValidateStream(stream); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	var out []Comment
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: streamPrefix(stream), Reverse: true, PrefetchValues: true, PrefetchSize: min(n, 100)})
		defer it.Close()
		// Every key of the stream is below prefix+0xff: wall ms is positive,
		// so its first byte is at most 0x7f.
		for it.Seek(append(streamPrefix(stream), 0xff)); it.Valid() && len(out) < n; it.Next() {
			c, err := decodeItem(it.Item())
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: latest %s: %w", ErrStore, stream, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// Count returns how many comments of stream are stored (deleted ones not
// counted). It walks the stream's keys.
func (s *Store) Count(stream string) (int, error) {
	if err := ValidateStream(stream); err != nil {
		return 0, err
	}
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: streamPrefix(stream)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("%w: count %s: %w", ErrStore, stream, err)
	}
	return n, nil
}

// Get returns the comment with this ID, and false when none is stored.
func (s *Store) Get(id string) (Comment, bool, error) {
	var c Comment
	found := false
	err := s.view(func(txn *badger.Txn) error {
		ck, err := getValue(txn, idKey(id))
		if err != nil || ck == nil {
			return err
		}
		item, err := txn.Get(ck)
		if err != nil {
			return err
		}
		c, err = decodeItem(item)
		found = err == nil
		return err
	})
	if err != nil {
		return Comment{}, false, fmt.Errorf("%w: get %s: %w", ErrStore, id, err)
	}
	return c, found, nil
}

// Has reports whether a comment with this ID is stored (false on error).
func (s *Store) Has(id string) bool {
	return s.exists(idKey(id))
}

// Deleted reports whether a tombstone for this ID is stored.
func (s *Store) Deleted(id string) bool {
	return s.exists(tombKey(id))
}

// Banned reports whether author is banned on stream.
func (s *Store) Banned(stream, author string) bool {
	return s.exists(banKey(stream, author))
}

// Bans returns the bans recorded for stream.
func (s *Store) Bans(stream string) ([]Ban, error) {
	var out []Ban
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: banPrefix(stream), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var m commentspb.Ban
			if err := it.Item().Value(func(v []byte) error { return proto.Unmarshal(v, &m) }); err != nil {
				return err
			}
			out = append(out, Ban{Stream: m.Stream, Author: m.Author, At: Timestamp{WallMS: m.WallMs, Logical: m.Logical}})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: bans %s: %w", ErrStore, stream, err)
	}
	return out, nil
}

func (s *Store) exists(key []byte) bool {
	err := s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(key)
		return err
	})
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		s.log.Warn("reading key", "key", string(key), "err", err)
	}
	return err == nil
}

// getValue returns a copy of key's value, or nil when there is none.
func getValue(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

func decodeItem(item *badger.Item) (Comment, error) {
	var c Comment
	err := item.Value(func(v []byte) error {
		var err error
		c, err = Decode(v)
		return err
	})
	return c, err
}

// badgerLogger sends Badger's log lines to slog.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any)   { l.log.Error("badger: " + fmt.Sprintf(f, a...)) }
func (l badgerLogger) Warningf(f string, a ...any) { l.log.Warn("badger: " + fmt.Sprintf(f, a...)) }
func (l badgerLogger) Infof(f string, a ...any)    { l.log.Info("badger: " + fmt.Sprintf(f, a...)) }
func (l badgerLogger) Debugf(f string, a ...any)   { l.log.Debug("badger: " + fmt.Sprintf(f, a...)) }
