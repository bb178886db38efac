package comments

import (
	"context"
	"errors"
	"fmt"
	"slices"

	badger "github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto/commentspb"
)

// Ban records that Author may no longer comment on Stream, issued at At.
type Ban struct {
	Stream, Author string
	At             Timestamp
}

// opKind is what a queued write does.
type opKind int

const (
	opPut opKind = iota
	opDelete
	opBan
	opAction
	opSet
)

// op is one Put, Delete or Ban call waiting for the writer.
type op struct {
	kind     opKind
	comments []Comment     // opPut
	stream   string        // opDelete, opBan
	key      string        // opDelete: the ID; opBan: the author
	at       Timestamp     // opDelete, opBan
	action   *SignedAction // opAction
	lazy     bool          // opPut of replicas: no flush needed
	value    []byte        // opSet: the value of key
	done     chan result
}

type result struct {
	n   int
	err error
}

// Put stores the comments that are not stored yet and not deleted, and
// returns how many it added, once they are durable. It is idempotent: a
// comment whose ID is already stored (or in the same call twice) is
// skipped. Every comment must pass Validate, or Put returns that error and
// stores none of them. Put blocks while the writer's queue is full, until
// ctx is done. An error after queueing (ctx done, ErrStore) means the
// comments may or may not be stored; putting them again is safe.
func (s *Store) Put(ctx context.Context, cs []Comment) (int, error) {
	if len(cs) == 0 {
		return 0, nil
	}
	for i, c := range cs {
		if err := Validate(c); err != nil {
			return 0, fmt.Errorf("comment %d: %w", i, err)
		}
	}
	return s.submit(ctx, &op{kind: opPut, comments: slices.Clone(cs)})
}

// PutReplica is Put for comments that other nodes already hold (received
// by gossip or catch-up). They are committed and visible when it returns,
// and survive the process being killed (the operating system holds the
// write), but PutReplica does not wait for the disk flush: an fsync per
// relayed comment on every hop would be most of the delivery time. A power
// loss may lose the last replicas written, which the node's catch-up
// fetches again from its peers. A group that also holds a Put is flushed
// for it.
func (s *Store) PutReplica(ctx context.Context, cs []Comment) (int, error) {
	if len(cs) == 0 {
		return 0, nil
	}
	for i, c := range cs {
		if err := Validate(c); err != nil {
			return 0, fmt.Errorf("comment %d: %w", i, err)
		}
	}
	return s.submit(ctx, &op{kind: opPut, comments: slices.Clone(cs), lazy: true})
}

// Delete removes comment id of stream, if stored, and records a tombstone
// so that a replica of it arriving later is not stored. It returns whether
// a stored comment was removed; the tombstone is recorded either way. A
// comment of another stream is not removed (ErrWrongStream). Who may
// delete is for the caller to check.
func (s *Store) Delete(ctx context.Context, stream, id string, at Timestamp) (bool, error) {
	if err := ValidateStream(stream); err != nil {
		return false, err
	}
	if !validID(id) {
		return false, fmt.Errorf("%w: %w: %q is not %d hex characters", ErrInvalid, ErrBadID, truncate(id, 80), IDLength)
	}
	n, err := s.submit(ctx, &op{kind: opDelete, stream: stream, key: id, at: at})
	return n > 0, err
}

// Ban records that author may no longer comment on stream. It is storage
// only: enforcing it (in the validator) and checking who may ban are the
// caller's.
func (s *Store) Ban(ctx context.Context, stream, author string, at Timestamp) error {
	if err := ValidateStream(stream); err != nil {
		return err
	}
	if err := ValidateAuthor(author); err != nil {
		return err
	}
	_, err := s.submit(ctx, &op{kind: opBan, stream: stream, key: author, at: at})
	return err
}

// submit queues o and waits for the writer's answer.
func (s *Store) submit(ctx context.Context, o *op) (int, error) {
	o.done = make(chan result, 1)
	select {
	case <-s.exited:
		return 0, ErrClosed
	default:
	}
	select {
	case s.queue <- o:
	case <-ctx.Done():
		return 0, fmt.Errorf("comments: waiting for the write queue: %w", ctx.Err())
	case <-s.exited:
		return 0, ErrClosed
	}
	select {
	case r := <-o.done:
		return r.n, r.err
	case <-ctx.Done():
		return 0, fmt.Errorf("comments: waiting for the write: %w", ctx.Err())
	case <-s.exited:
		select { // answered just before the writer exited
		case r := <-o.done:
			return r.n, r.err
		default:
			return 0, ErrClosed
		}
	}
}

// run is the writer goroutine: one group commit per turn.
func (s *Store) run(ctx context.Context) {
	defer close(s.exited)
	var group []*op
	for {
		select {
		case o := <-s.queue:
			group = s.collect(append(group[:0], o))
			s.commit(group)
		case <-ctx.Done():
			s.drain()
			return
		case <-s.stop:
			s.drain()
			return
		}
	}
}

// collect adds the queued ops to group, up to maxBatch comments.
func (s *Store) collect(group []*op) []*op {
	n := group[0].size()
	for n < s.maxBatch {
		select {
		case o := <-s.queue:
			group = append(group, o)
			n += o.size()
		default:
			return group
		}
	}
	return group
}

// drain writes what is queued, at shutdown.
func (s *Store) drain() {
	for {
		select {
		case o := <-s.queue:
			s.commit(s.collect([]*op{o}))
		default:
			return
		}
	}
}

func (o *op) size() int {
	if o.kind == opPut {
		return len(o.comments)
	}
	return 1
}

// commit applies a group of ops in one transaction (more only if it grows
// past Badger's transaction limit), commits it durably, then answers each.
func (s *Store) commit(group []*op) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		for _, o := range group {
			o.done <- result{err: ErrClosed}
		}
		return
	}
	w := &batch{db: s.db, txn: s.db.NewTransaction(true), added: make(map[string]bool)}
	results := make([]result, len(group))
	for i, o := range group {
		results[i] = w.apply(o)
	}
	if w.err != nil {
		w.txn.Discard()
	} else if err := w.txn.Commit(); err != nil {
		w.err = fmt.Errorf("%w: commit: %w", ErrStore, err)
	} else if durable(group) {
		if err := s.db.Sync(); err != nil {
			w.err = fmt.Errorf("%w: sync: %w", ErrStore, err)
		}
	}
	if w.err == nil {
		s.commits.Add(int64(w.commits + 1))
	}
	if w.err != nil {
		s.log.Error("writing comments", "ops", len(group), "err", w.err)
	}
	for i, o := range group {
		if w.err != nil {
			results[i] = result{err: w.err}
		}
		o.done <- results[i]
	}
}

// durable reports whether a group holds a write that must be flushed
// before it is answered: everything but PutReplica's.
func durable(group []*op) bool {
	for _, o := range group {
		if !o.lazy {
			return true
		}
	}
	return false
}

// batch is the transaction a group is applied in.
type batch struct {
	db      *badger.DB
	txn     *badger.Txn
	added   map[string]bool // IDs put in this group
	commits int             // intermediate commits (transaction too big)
	err     error           // first Badger error: fails the whole group
}

// set writes key, committing and starting a new transaction when the
// current one is full.
func (w *batch) set(k, v []byte) {
	w.write(func(txn *badger.Txn) error { return txn.Set(k, v) })
}

func (w *batch) del(k []byte) {
	w.write(func(txn *badger.Txn) error { return txn.Delete(k) })
}

func (w *batch) write(fn func(*badger.Txn) error) {
	if w.err != nil {
		return
	}
	err := fn(w.txn)
	if errors.Is(err, badger.ErrTxnTooBig) {
		if err = w.txn.Commit(); err == nil {
			w.commits++
			w.txn = w.db.NewTransaction(true)
			err = fn(w.txn)
		}
	}
	if err != nil {
		w.err = fmt.Errorf("%w: %w", ErrStore, err)
	}
}

func (w *batch) get(k []byte) []byte {
	if w.err != nil {
		return nil
	}
	v, err := getValue(w.txn, k)
	if err != nil {
		w.err = fmt.Errorf("%w: %w", ErrStore, err)
	}
	return v
}

func (w *batch) apply(o *op) result {
	switch o.kind {
	case opPut:
		n := 0
		for _, c := range o.comments {
			if w.put(c) {
				n++
			}
		}
		return result{n: n}
	case opDelete:
		return w.delete(o)
	case opBan:
		w.ban(o.stream, o.key, o.at)
		return result{n: 1}
	case opAction:
		return w.action(o.action)
	case opSet:
		w.set([]byte(o.key), o.value)
		return result{n: 1}
	}
	return result{err: fmt.Errorf("%w: unknown op %d", ErrStore, o.kind)}
}

// put adds c unless it is stored, put earlier in this group, or deleted
// from its stream.
func (w *batch) put(c Comment) bool {
	if w.added[c.ID] || w.get(idKey(c.ID)) != nil {
		return false
	}
	if tv := w.get(tombKey(c.ID)); tv != nil {
		var t commentspb.Tombstone
		if proto.Unmarshal(tv, &t) == nil && t.Stream == c.Stream {
			return false
		}
	}
	v, err := Encode(c)
	if err != nil { // Validate passed, so this does not happen
		w.err = fmt.Errorf("%w: %w", ErrStore, err)
		return false
	}
	ck := commentKey(c)
	w.set(ck, v)
	w.set(idKey(c.ID), ck)
	w.added[c.ID] = true
	return w.err == nil
}

func (w *batch) delete(o *op) result {
	return w.deleteComment(o.stream, o.key, o.at)
}

func (w *batch) deleteComment(stream, id string, at Timestamp) result {
	removed := 0
	if ck := w.get(idKey(id)); ck != nil {
		owner, err := streamOfCommentKey(ck)
		if err != nil {
			return result{err: err}
		}
		if owner != stream {
			return result{err: fmt.Errorf("%w: %w: %s is a comment of %q, not %q", ErrInvalid, ErrWrongStream, id, owner, stream)}
		}
		w.del(ck)
		w.del(idKey(id))
		delete(w.added, id)
		removed = 1
	}
	v, _ := proto.Marshal(&commentspb.Tombstone{Stream: stream, Id: id, WallMs: at.WallMS, Logical: at.Logical})
	w.set(tombKey(id), v)
	return result{n: removed}
}

func (w *batch) ban(stream, author string, at Timestamp) {
	v, _ := proto.Marshal(&commentspb.Ban{Stream: stream, Author: author, WallMs: at.WallMS, Logical: at.Logical})
	w.set(banKey(stream, author), v)
}

// action records a signed moderation action, unless it is recorded
// already, and applies it (tombstone, ban) in the same transaction. n is 1
// for a new action.
func (w *batch) action(sa *SignedAction) result {
	k := actionKey(sa.Stream, sa.At, sa.ID)
	if w.get(k) != nil {
		return result{}
	}
	switch sa.Kind {
	case ActDelete:
		if r := w.deleteComment(sa.Stream, sa.CommentID, sa.At); r.err != nil {
			// A delete naming another stream's comment deletes nothing
			// there; it is still recorded (and so not asked for again).
			if !errors.Is(r.err, ErrWrongStream) {
				return r
			}
		}
	case ActBan:
		w.ban(sa.Stream, sa.Author, sa.At)
	}
	w.set(k, EncodeSigned(*sa))
	return result{n: 1}
}

// validID reports whether id has the form of an ID: IDLength lowercase hex.
func validID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
