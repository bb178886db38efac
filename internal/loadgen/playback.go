package loadgen

import "time"

// timeline is what the playhead needs to know about segment seq.
type timeline interface {
	// segment returns the segment's duration, program date-time and
	// whether it is loaded; known is false when the playlist has not
	// listed it (yet).
	segment(seq uint64) (dur time.Duration, pdt time.Time, loaded, known bool)
	// edge is the end of the last listed segment (zero when none).
	edge() time.Time
}

// catchUpRate is hls.js's maxLiveSyncPlaybackRate (player.js): playback
// runs this much faster while further behind than the target latency.
const catchUpRate = 1.1

// playback is a simulated playhead: a position (segment, offset) that
// moves at wall-clock speed through loaded segments and stalls on one that
// is not loaded. Wall time is passed in, so tests use a fake clock.
type playback struct {
	target  time.Duration // latency the player aims for
	slack   time.Duration // latency above target that triggers catch-up
	started bool
	seq     uint64        // segment at the playhead
	off     time.Duration // position within it
	last    time.Time     // wall time of the last advance

	stalled   bool
	stalls    int
	stallTime time.Duration
	playTime  time.Duration
	jumps     int
}

// start begins playback at offset off of segment seq.
func (p *playback) start(now time.Time, seq uint64, off time.Duration) {
	p.started, p.seq, p.off, p.last = true, seq, off, now
}

// seek moves the playhead (a live jump back to the target latency).
func (p *playback) seek(seq uint64, off time.Duration) {
	p.seq, p.off = seq, off
	p.jumps++
}

// latency is how far the playhead is behind the live wall clock, from the
// program date-time of the segment it is in.
func (p *playback) latency(now time.Time, tl timeline) (time.Duration, bool) {
	if !p.started {
		return 0, false
	}
	_, pdt, _, known := tl.segment(p.seq)
	if !known || pdt.IsZero() {
		return 0, false
	}
	return now.Sub(pdt.Add(p.off)), true
}

// advance moves the playhead to wall time now: it plays through loaded
// segments and counts the time spent waiting at one that is not loaded as
// a stall.
func (p *playback) advance(now time.Time, tl timeline) {
	if !p.started {
		return
	}
	dt := now.Sub(p.last)
	p.last = now
	for dt > 0 {
		dur, pdt, loaded, known := tl.segment(p.seq)
		if !known || !loaded {
			if !p.stalled {
				p.stalled = true
				p.stalls++
			}
			p.stallTime += dt
			return
		}
		p.stalled = false
		if p.off >= dur {
			p.seq++
			p.off -= dur
			continue
		}
		// Like hls.js, catch up when further behind the playlist's live
		// edge than the target latency.
		rate := 1.0
		if e := tl.edge(); !pdt.IsZero() && !e.IsZero() && e.Sub(pdt.Add(p.off)) > p.target+p.slack {
			rate = catchUpRate
		}
		media := time.Duration(float64(dt) * rate)
		step := min(media, dur-p.off)
		wall := time.Duration(float64(step) / rate)
		if step == media {
			wall = dt
		}
		p.off += step
		p.playTime += wall
		dt -= wall
		if p.off >= dur {
			p.seq++
			p.off -= dur
		}
	}
}

// continuity is the share of watch time (since start) spent playing.
func (p *playback) continuity() float64 {
	total := p.playTime + p.stallTime
	if total <= 0 {
		return 1
	}
	return float64(p.playTime) / float64(total)
}
