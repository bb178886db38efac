package transcode

import "time"

// Slow-encoder watch parameters.
const (
	// slowSpeed is "slower than real time". It is a little under 1.0 on
	// purpose: a live input caps the speed at 1.0, and out_time advancing
	// in whole frames over a wall-clock interval that is never exactly the
	// same makes a transcoder that keeps up read 0.97-1.03 sample to sample.
	slowSpeed  = 0.95
	slowWindow = 10 * time.Second // continuously for this long before warning
	// minSpeedInterval is the shortest wall-clock interval a speed sample is
	// computed over, so that frame-sized steps of out_time do not read as jitter.
	minSpeedInterval = time.Second
)

// speedWatch turns -progress blocks into an encoding speed (output media time
// per wall-clock time over the last interval of at least minSpeedInterval)
// and decides when to warn: speed below slowSpeed continuously for
// slowWindow warns once per episode; the episode ends when speed recovers.
//
// ffmpeg's own speed= is cumulative since the start of the run, so after a
// single stall of the publisher it stays below 1 for good; the interval speed
// recovers as soon as the encoder keeps up again.
type speedWatch struct {
	now func() time.Time

	have      bool
	lastWall  time.Time
	lastMedia time.Duration

	slow      bool
	slowSince time.Time
	warned    bool
}

// speedEvent is what observe decided.
type speedEvent int

const (
	speedNone      speedEvent = iota
	speedWarn                 // slow for slowWindow: warn (once per episode)
	speedRecovered            // back to real time after a warned episode
)

// observe takes one progress block; it returns the interval speed (ok=false
// when no new sample was computed) and the event to log.
func (w *speedWatch) observe(p Progress) (speed float64, ok bool, ev speedEvent) {
	now := w.now()
	if !w.have || p.OutTime < w.lastMedia {
		w.have, w.lastWall, w.lastMedia = true, now, p.OutTime
		return 0, false, speedNone
	}
	dt := now.Sub(w.lastWall)
	if dt < minSpeedInterval {
		return 0, false, speedNone
	}
	speed = float64(p.OutTime-w.lastMedia) / float64(dt)
	w.lastWall, w.lastMedia = now, p.OutTime
	return speed, true, w.judge(speed, now)
}

// judge updates the episode state with one speed sample taken at now.
func (w *speedWatch) judge(speed float64, now time.Time) speedEvent {
	if speed >= slowSpeed {
		recovered := w.warned
		w.slow, w.warned = false, false
		if recovered {
			return speedRecovered
		}
		return speedNone
	}
	if !w.slow {
		w.slow, w.slowSince = true, now
	}
	if !w.warned && now.Sub(w.slowSince) >= slowWindow {
		w.warned = true
		return speedWarn
	}
	return speedNone
}
