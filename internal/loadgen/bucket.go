package loadgen

import (
	"sync"
	"time"
)

// bucket is a token bucket of bytes: a viewer's upload cap, shared by all
// its peer connections. Time is passed in, so tests drive it without
// sleeping.
type bucket struct {
	mu     sync.Mutex
	rate   float64 // bytes per second; <= 0: unlimited
	burst  float64 // largest balance
	tokens float64
	last   time.Time
}

// newBucket returns a full bucket of rate bytes/s holding at most burst.
func newBucket(rate, burst int64, now time.Time) *bucket {
	return &bucket{rate: float64(rate), burst: float64(burst), tokens: float64(burst), last: now}
}

// reserve takes n bytes now and returns how long the caller must wait
// before sending them (0 when the balance covered them). The balance may go
// negative: later callers wait behind this one.
func (b *bucket) reserve(now time.Time, n int) time.Duration {
	if b == nil || b.rate <= 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt.Seconds()*b.rate)
		b.last = now
	}
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}
