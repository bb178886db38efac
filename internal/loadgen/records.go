package loadgen

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/canopylive/canopy/proto"
)

// recordFetchLimit is how many records one records.json request asks for
// (web/src/records.js FETCH_LIMIT).
const recordFetchLimit = 100

// recordKey names one segment's record.
type recordKey struct {
	kind proto.SegmentKind
	seq  uint64
}

// recordBook is a viewer's cache of origin-signed records of one rendition,
// like the page's RecordBook: a record enters only after its signature
// checks out, so checking a segment is then a length and SHA-256 compare.
type recordBook struct {
	stream, broadcast, rendition string
	pub                          ed25519.PublicKey
	fetch                        func(ctx context.Context, since uint64) ([]byte, error)

	mu      sync.Mutex
	recs    map[recordKey]proto.Segment
	maxSeq  int64
	bad     int
	refresh sync.Mutex // one records.json request at a time
}

func newRecordBook(stream, broadcast, rendition string, pub ed25519.PublicKey,
	fetch func(ctx context.Context, since uint64) ([]byte, error)) *recordBook {
	return &recordBook{stream: stream, broadcast: broadcast, rendition: rendition, pub: pub, fetch: fetch,
		recs: map[recordKey]proto.Segment{}, maxSeq: -1}
}

// add keeps rec if it is signed by the origin and belongs to this book.
func (b *recordBook) add(rec proto.Segment) bool {
	if rec.Stream != b.stream || rec.Broadcast != b.broadcast || rec.Rendition != b.rendition ||
		rec.Verify(b.pub) != nil {
		b.mu.Lock()
		b.bad++
		b.mu.Unlock()
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recs[recordKey{rec.Kind, rec.Sequence}] = rec
	if rec.Kind == proto.KindMedia {
		b.maxSeq = max(b.maxSeq, int64(rec.Sequence))
		// Keep about ten minutes of 2 s segments, as the page does.
		if drop := int64(rec.Sequence) - 1000; drop >= 0 {
			delete(b.recs, recordKey{proto.KindMedia, uint64(drop)})
		}
	}
	return true
}

// addJSON adds a record in its JSON form (a Canopy-Record header).
func (b *recordBook) addJSON(j []byte) {
	var rec proto.Segment
	if err := json.Unmarshal(j, &rec); err == nil {
		b.add(rec)
	}
}

func (b *recordBook) peek(kind proto.SegmentKind, seq uint64) (proto.Segment, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.recs[recordKey{kind, seq}]
	return r, ok
}

// get returns a segment's record, fetching records.json when it is not
// cached yet (twice, like the page: a fetch may predate the segment).
func (b *recordBook) get(ctx context.Context, kind proto.SegmentKind, seq uint64) (proto.Segment, bool) {
	for range 2 {
		if r, ok := b.peek(kind, seq); ok {
			return r, true
		}
		b.update(ctx, kind, seq)
	}
	return b.peek(kind, seq)
}

// update fetches records from where the cache ends (or from seq when that
// is far off), one request at a time.
func (b *recordBook) update(ctx context.Context, kind proto.SegmentKind, seq uint64) {
	b.refresh.Lock()
	defer b.refresh.Unlock()
	if _, ok := b.peek(kind, seq); ok {
		return
	}
	b.mu.Lock()
	since := uint64(b.maxSeq + 1)
	b.mu.Unlock()
	if kind == proto.KindMedia && (seq < since || seq-since >= recordFetchLimit) {
		since = seq
	}
	body, err := b.fetch(ctx, since)
	if err != nil {
		return
	}
	var list []proto.Segment
	if err := json.Unmarshal(body, &list); err != nil {
		// One bad record must not hide the others: decode one by one.
		var raw []json.RawMessage
		if json.Unmarshal(body, &raw) != nil {
			return
		}
		for _, r := range raw {
			b.addJSON(r)
		}
		return
	}
	for _, r := range list {
		b.add(r)
	}
}

// prefetch starts fetching records up to lastSeq (a playlist just listed
// it) so checking that segment costs no round trip of its own.
func (b *recordBook) prefetch(ctx context.Context, lastSeq uint64) {
	b.mu.Lock()
	behind := int64(lastSeq) > b.maxSeq
	b.mu.Unlock()
	if behind && b.refresh.TryLock() {
		b.refresh.Unlock()
		b.update(ctx, proto.KindMedia, lastSeq)
	}
}

// verify checks data against the signed record of (kind, seq).
func (b *recordBook) verify(ctx context.Context, kind proto.SegmentKind, seq uint64, data []byte) error {
	rec, ok := b.get(ctx, kind, seq)
	if !ok {
		return fmt.Errorf("%w: no record for %s %d", ErrVerify, kind, seq)
	}
	return checkData(rec, data)
}

// checkData compares data with a record whose signature was checked.
func checkData(rec proto.Segment, data []byte) error {
	if uint64(len(data)) != rec.Length {
		return fmt.Errorf("%w: %d bytes, record says %d: %w", ErrVerify, len(data), rec.Length, proto.ErrLengthMismatch)
	}
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], rec.SHA256[:]) {
		return fmt.Errorf("%w: %w", ErrVerify, proto.ErrHashMismatch)
	}
	return nil
}

// badRecords counts records refused (bad signature or foreign).
func (b *recordBook) badRecords() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bad
}
