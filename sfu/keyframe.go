package sfu

import "time"

// coalescer limits upstream keyframe requests to one per interval. A
// request inside the interval is remembered (pending) and sent once the
// interval has passed, unless a keyframe arrives first and satisfies it.
// It is not safe for concurrent use (the Track's mutex guards it).
type coalescer struct {
	interval   time.Duration
	last       time.Time
	has        bool
	pending    bool
	sent       uint64
	suppressed uint64
}

// request asks for a keyframe at now; it reports whether to send one now.
func (c *coalescer) request(now time.Time) bool {
	if c.has && now.Sub(c.last) < c.interval {
		c.pending = true
		c.suppressed++
		return false
	}
	c.fire(now)
	return true
}

// force sends a request now whatever the interval (a new upstream source
// must be asked, even if the old one was asked a moment ago).
func (c *coalescer) force(now time.Time) { c.fire(now) }

// packet is told of every upstream packet; it reports whether a pending
// request is now due.
func (c *coalescer) packet(now time.Time, keyframe bool) bool {
	if keyframe {
		c.pending = false
		return false
	}
	if c.pending && now.Sub(c.last) >= c.interval {
		c.fire(now)
		return true
	}
	return false
}

func (c *coalescer) fire(now time.Time) {
	c.has, c.last, c.pending = true, now, false
	c.sent++
}
