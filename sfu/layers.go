package sfu

import (
	"fmt"
	"time"
)

// Defaults of LayerPolicy.
const (
	DefaultLayerHeadroom    = 1.25
	DefaultLayerUpAfter     = 3 * time.Second
	DefaultLayerMaxUpAfter  = 60 * time.Second
	DefaultLayerDownAfter   = 500 * time.Millisecond
	DefaultLayerMinDwell    = 5 * time.Second
	DefaultLayerProbeWindow = 10 * time.Second
	DefaultLayerInterval    = 250 * time.Millisecond
)

// LayerPolicy says when a layered DownTrack moves between its Tracks
// (layers, best first). Zero fields take the defaults.
//
// A layer fits when its measured bitrate × Headroom is at most the
// viewer's bandwidth estimate. The viewer goes down to the best layer that
// fits (the lowest live one if none does) once its current layer has not
// fitted for DownAfter; it goes up one layer once that layer has fitted
// for UpAfter and at least MinDwell has passed since the last switch. An
// up-switch followed by a down-switch within ProbeWindow is a failed probe
// (the estimate grew while the viewer sent less than it allowed, and the
// link could not carry the better layer): UpAfter doubles, up to
// MaxUpAfter, and returns to its default after an up-switch that holds for
// ProbeWindow. The first estimate picks the start layer directly.
type LayerPolicy struct {
	Headroom    float64       // default 1.25
	UpAfter     time.Duration // default 3 s
	MaxUpAfter  time.Duration // default 60 s
	DownAfter   time.Duration // default 500 ms
	MinDwell    time.Duration // default 5 s
	ProbeWindow time.Duration // default 10 s
	Interval    time.Duration // how often the choice is made; default 250 ms
}

func (p LayerPolicy) withDefaults() (LayerPolicy, error) {
	if p.Headroom < 0 || p.UpAfter < 0 || p.MaxUpAfter < 0 || p.DownAfter < 0 || p.MinDwell < 0 ||
		p.ProbeWindow < 0 || p.Interval < 0 {
		return p, fmt.Errorf("%w: negative LayerPolicy field", ErrParams)
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if p.Headroom == 0 {
		p.Headroom = DefaultLayerHeadroom
	}
	def(&p.UpAfter, DefaultLayerUpAfter)
	def(&p.MaxUpAfter, DefaultLayerMaxUpAfter)
	def(&p.DownAfter, DefaultLayerDownAfter)
	def(&p.MinDwell, DefaultLayerMinDwell)
	def(&p.ProbeWindow, DefaultLayerProbeWindow)
	def(&p.Interval, DefaultLayerInterval)
	p.MaxUpAfter = max(p.MaxUpAfter, p.UpAfter)
	return p, nil
}

// chooser makes one viewer's layer choice from its bandwidth estimate and
// the layers' measured bitrates. It is not safe for concurrent use.
type chooser struct {
	p        LayerPolicy
	upAfter  time.Duration // UpAfter, backed off after failed probes
	started  bool          // the start layer was picked
	cur      int           // the layer chosen
	last     time.Time     // last switch
	lastUp   bool          // the last switch went up (a probe in progress)
	fitSince time.Time     // since when the layer above has fitted (zero: it does not)
	lowSince time.Time     // since when the current layer has not fitted (zero: it does)
}

func newChooser(p LayerPolicy, start int) chooser {
	return chooser{p: p, upAfter: p.UpAfter, cur: start}
}

// decide returns the layer to be on at now, given the estimate in bits/s
// (≤ 0: none yet) and each layer's measured bitrate in bits/s, best first
// (0: the layer receives nothing).
func (c *chooser) decide(now time.Time, estimate int, rates []int) int {
	if estimate <= 0 || len(rates) < 2 {
		return c.cur
	}
	fits := func(i int) bool { return rates[i] > 0 && float64(rates[i])*c.p.Headroom <= float64(estimate) }
	// best is the best layer that fits, else the lowest live one (-1 if
	// none is live).
	best := func() int {
		lowest := -1
		for i, r := range rates {
			if fits(i) {
				return i
			}
			if r > 0 {
				lowest = i
			}
		}
		return lowest
	}
	if !c.started {
		c.started = true
		if b := best(); b >= 0 {
			c.cur, c.last = b, now
		}
		return c.cur
	}
	// A probe that held long enough succeeded.
	if c.lastUp && now.Sub(c.last) >= c.p.ProbeWindow {
		c.lastUp, c.upAfter = false, c.p.UpAfter
	}
	if !fits(c.cur) {
		c.fitSince = time.Time{}
		if c.lowSince.IsZero() {
			c.lowSince = now
		}
		b := best()
		if b < 0 || b == c.cur || (b < c.cur && rates[c.cur] > 0) {
			return c.cur // nothing better to go to
		}
		if now.Sub(c.lowSince) < c.p.DownAfter && rates[c.cur] > 0 {
			return c.cur
		}
		if c.lastUp && now.Sub(c.last) < c.p.ProbeWindow {
			c.upAfter = min(2*c.upAfter, c.p.MaxUpAfter)
		}
		c.switchTo(now, b, false)
		return c.cur
	}
	c.lowSince = time.Time{}
	up := -1 // the next live layer above
	for i := c.cur - 1; i >= 0; i-- {
		if rates[i] > 0 {
			up = i
			break
		}
	}
	if up < 0 || !fits(up) {
		c.fitSince = time.Time{}
		return c.cur
	}
	if c.fitSince.IsZero() {
		c.fitSince = now
	}
	if now.Sub(c.fitSince) >= c.upAfter && now.Sub(c.last) >= c.p.MinDwell {
		c.switchTo(now, up, true)
	}
	return c.cur
}

func (c *chooser) switchTo(now time.Time, layer int, up bool) {
	c.cur, c.last, c.lastUp = layer, now, up
	c.fitSince, c.lowSince = time.Time{}, time.Time{}
}
