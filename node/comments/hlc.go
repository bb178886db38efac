package comments

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Timestamp is a hybrid logical clock reading: a wall-clock part in Unix
// milliseconds and a logical counter that orders events within the same
// millisecond (and events whose wall clock lags a causally earlier one).
type Timestamp struct {
	WallMS  int64
	Logical uint32
}

// Compare returns -1, 0 or +1 as t is before, equal to or after o.
func (t Timestamp) Compare(o Timestamp) int {
	switch {
	case t.WallMS < o.WallMS:
		return -1
	case t.WallMS > o.WallMS:
		return 1
	case t.Logical < o.Logical:
		return -1
	case t.Logical > o.Logical:
		return 1
	}
	return 0
}

// Before reports whether t is before o.
func (t Timestamp) Before(o Timestamp) bool { return t.Compare(o) < 0 }

// IsZero reports whether t is the zero Timestamp.
func (t Timestamp) IsZero() bool { return t == Timestamp{} }

// Time returns the wall-clock part as a time.Time.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.WallMS) }

// String formats t as "<wall ms>.<logical>".
func (t Timestamp) String() string { return fmt.Sprintf("%d.%d", t.WallMS, t.Logical) }

// next returns the smallest Timestamp after t.
func (t Timestamp) next() Timestamp {
	if t.Logical == math.MaxUint32 {
		return Timestamp{WallMS: t.WallMS + 1}
	}
	return Timestamp{WallMS: t.WallMS, Logical: t.Logical + 1}
}

// DefaultMaxDrift is how far ahead of the local wall clock a remote
// timestamp may be before Clock.Update rejects it.
const DefaultMaxDrift = time.Minute

// ClockParams configures a Clock.
type ClockParams struct {
	// Now is the wall clock; time.Now when nil.
	Now func() time.Time
	// MaxDrift bounds how far ahead of Now a remote timestamp may be;
	// DefaultMaxDrift when zero.
	MaxDrift time.Duration
}

// Clock is a hybrid logical clock (Kulkarni et al., "Logical Physical
// Clocks"). Its readings never go backwards, stay close to the wall clock,
// and are after every remote timestamp it has been updated with. It is safe
// for concurrent use.
type Clock struct {
	now      func() time.Time
	maxDrift int64 // ms

	mu   sync.Mutex
	last Timestamp
}

// NewClock returns a Clock.
func NewClock(p ClockParams) (*Clock, error) {
	if p.MaxDrift < 0 {
		return nil, fmt.Errorf("%w: negative MaxDrift %v", ErrParams, p.MaxDrift)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.MaxDrift == 0 {
		p.MaxDrift = DefaultMaxDrift
	}
	return &Clock{now: p.Now, maxDrift: p.MaxDrift.Milliseconds()}, nil
}

// Now returns a timestamp for a local event (a comment accepted here): after
// every timestamp the clock returned or was updated with before.
func (c *Clock) Now() Timestamp {
	wall := c.now().UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	if wall > c.last.WallMS {
		c.last = Timestamp{WallMS: wall}
	} else {
		c.last = c.last.next()
	}
	return c.last
}

// Update merges a remote timestamp (a comment received from a peer) and
// returns the clock's new reading, which is after both remote and every
// earlier reading. A remote timestamp more than MaxDrift ahead of the local
// wall clock is rejected with ErrClockDrift and leaves the clock unchanged,
// so that one peer with a wrong clock cannot drag every clock forward.
func (c *Clock) Update(remote Timestamp) (Timestamp, error) {
	wall := c.now().UnixMilli()
	if remote.WallMS-wall > c.maxDrift {
		return Timestamp{}, fmt.Errorf("%w: remote %s is %d ms ahead of local %d (max %d ms)",
			ErrClockDrift, remote, remote.WallMS-wall, wall, c.maxDrift)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maxSeen := c.last
	if remote.Compare(maxSeen) > 0 {
		maxSeen = remote
	}
	if wall > maxSeen.WallMS {
		c.last = Timestamp{WallMS: wall}
	} else {
		c.last = maxSeen.next()
	}
	return c.last, nil
}
