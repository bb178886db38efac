package comments

import (
	"container/list"
	"fmt"
	"sync"
	"time"
)

// Bucket is a token bucket's shape: Rate tokens a second, up to Burst.
type Bucket struct {
	Rate  float64
	Burst int
}

// Defaults for RateLimiterParams: an author may post 5 comments at once,
// then 1 a second; an address 20 at once, then 5 a second.
const (
	DefaultAuthorRate   = 1.0
	DefaultAuthorBurst  = 5
	DefaultAddressRate  = 5.0
	DefaultAddressBurst = 20
)

// DefaultMaxKeys bounds the keys each RateLimiter dimension remembers.
const DefaultMaxKeys = 100_000

// RateLimiterParams configures a RateLimiter.
type RateLimiterParams struct {
	// PerAuthor and PerAddress default to DefaultAuthorRate/Burst and
	// DefaultAddressRate/Burst when zero.
	PerAuthor, PerAddress Bucket
	// MaxKeys bounds the authors and the addresses remembered (each);
	// DefaultMaxKeys when zero. Beyond it the least recently seen key is
	// forgotten (it starts again with a full bucket).
	MaxKeys int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// RateLimiter limits how fast an author and an address (the client's IP or
// peer) may post, with one token bucket per author and one per address.
// Memory is bounded: a key idle long enough for its bucket to be full again
// is forgotten (a full bucket is the same as no bucket), and at most MaxKeys
// keys per dimension are kept. It is safe for concurrent use.
type RateLimiter struct {
	now func() time.Time

	mu             sync.Mutex
	authors, addrs *buckets
}

// NewRateLimiter returns a RateLimiter.
func NewRateLimiter(p RateLimiterParams) (*RateLimiter, error) {
	if p.PerAuthor == (Bucket{}) {
		p.PerAuthor = Bucket{Rate: DefaultAuthorRate, Burst: DefaultAuthorBurst}
	}
	if p.PerAddress == (Bucket{}) {
		p.PerAddress = Bucket{Rate: DefaultAddressRate, Burst: DefaultAddressBurst}
	}
	if p.MaxKeys == 0 {
		p.MaxKeys = DefaultMaxKeys
	}
	for _, b := range []Bucket{p.PerAuthor, p.PerAddress} {
		if b.Rate <= 0 || b.Burst < 1 {
			return nil, fmt.Errorf("%w: bucket %+v: need Rate > 0 and Burst >= 1", ErrParams, b)
		}
	}
	if p.MaxKeys < 0 {
		return nil, fmt.Errorf("%w: MaxKeys %d", ErrParams, p.MaxKeys)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return &RateLimiter{
		now:     p.Now,
		authors: newBuckets(p.PerAuthor, p.MaxKeys),
		addrs:   newBuckets(p.PerAddress, p.MaxKeys),
	}, nil
}

// Allow takes one token from author's bucket and one from addr's, or
// neither: it returns an error wrapping ErrRateLimited when either is empty.
// An empty author or addr is not limited in that dimension.
func (l *RateLimiter) Allow(author, addr string) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.authors.get(author, now)
	b := l.addrs.get(addr, now)
	switch {
	case a != nil && a.tokens < 1:
		return fmt.Errorf("%w: author %q may post %g comments a second", ErrRateLimited, truncate(author, 40), l.authors.shape.Rate)
	case b != nil && b.tokens < 1:
		return fmt.Errorf("%w: address may post %g comments a second", ErrRateLimited, l.addrs.shape.Rate)
	}
	if a != nil {
		a.tokens--
	}
	if b != nil {
		b.tokens--
	}
	return nil
}

// Len returns how many authors and addresses are remembered.
func (l *RateLimiter) Len() (authors, addrs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.authors.m), len(l.addrs.m)
}

// bucket is one key's state.
type bucket struct {
	key    string
	tokens float64
	last   time.Time // last refill, and last use
}

// buckets is one dimension: buckets by key, in least-recently-used order.
type buckets struct {
	shape   Bucket
	maxKeys int
	idle    time.Duration // time for an empty bucket to fill up
	m       map[string]*list.Element
	lru     list.List // front: most recently used; values *bucket
}

func newBuckets(shape Bucket, maxKeys int) *buckets {
	idle := time.Duration(float64(shape.Burst) / shape.Rate * float64(time.Second))
	return &buckets{shape: shape, maxKeys: maxKeys, idle: idle, m: make(map[string]*list.Element)}
}

// get returns key's bucket refilled to now (nil for an empty key), after
// forgetting the keys idle long enough to be full.
func (bs *buckets) get(key string, now time.Time) *bucket {
	for e := bs.lru.Back(); e != nil; e = bs.lru.Back() {
		b := e.Value.(*bucket)
		if now.Sub(b.last) < bs.idle {
			break
		}
		bs.lru.Remove(e)
		delete(bs.m, b.key)
	}
	if key == "" {
		return nil
	}
	if e, ok := bs.m[key]; ok {
		b := e.Value.(*bucket)
		if d := now.Sub(b.last); d > 0 {
			b.tokens = min(float64(bs.shape.Burst), b.tokens+d.Seconds()*bs.shape.Rate)
			b.last = now
		}
		bs.lru.MoveToFront(e)
		return b
	}
	if len(bs.m) >= bs.maxKeys {
		e := bs.lru.Back()
		bs.lru.Remove(e)
		delete(bs.m, e.Value.(*bucket).key)
	}
	b := &bucket{key: key, tokens: float64(bs.shape.Burst), last: now}
	bs.m[key] = bs.lru.PushFront(b)
	return b
}
