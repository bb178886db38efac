package loadgen

import (
	"testing"
	"time"
)

// fakeTimeline is a list of 2 s segments from seq 10, PDT t0 + 2 s × (seq - 10).
type fakeTimeline struct {
	t0     time.Time
	loaded map[uint64]bool
	last   uint64
}

func (f *fakeTimeline) segment(seq uint64) (time.Duration, time.Time, bool, bool) {
	if seq < 10 || seq > f.last {
		return 0, time.Time{}, false, false
	}
	return 2 * time.Second, f.t0.Add(time.Duration(seq-10) * 2 * time.Second), f.loaded[seq], true
}

func (f *fakeTimeline) edge() time.Time {
	if f.last < 10 {
		return time.Time{}
	}
	return f.t0.Add(time.Duration(f.last-9) * 2 * time.Second)
}

func TestPlaybackStalls(t *testing.T) {
	t0 := time.Unix(5000, 0)
	tl := &fakeTimeline{t0: t0, loaded: map[uint64]bool{10: true, 11: true}, last: 20}
	p := playback{target: 6 * time.Second, slack: time.Hour} // no catch-up in this test
	start := t0.Add(6 * time.Second)                         // 6 s behind the start of segment 10
	p.start(start, 10, 0)
	at := func(d time.Duration) time.Time { return start.Add(d) }

	p.advance(at(3*time.Second), tl) // plays 10, into 11
	if p.seq != 11 || p.off != time.Second || p.stalls != 0 || p.playTime != 3*time.Second {
		t.Fatalf("after 3 s: seq %d off %v stalls %d play %v", p.seq, p.off, p.stalls, p.playTime)
	}
	p.advance(at(5*time.Second), tl) // 1 s more of 11, then 12 is missing: 1 s stalled
	if p.seq != 12 || p.stalls != 1 || p.stallTime != time.Second || p.playTime != 4*time.Second {
		t.Fatalf("after 5 s: seq %d stalls %d stall %v play %v", p.seq, p.stalls, p.stallTime, p.playTime)
	}
	p.advance(at(6*time.Second), tl) // still missing: same stall, longer
	if p.stalls != 1 || p.stallTime != 2*time.Second {
		t.Fatalf("after 6 s: stalls %d stall %v", p.stalls, p.stallTime)
	}
	tl.loaded[12] = true
	p.advance(at(7*time.Second), tl) // plays again
	if p.stalls != 1 || p.playTime != 5*time.Second || p.seq != 12 || p.off != time.Second {
		t.Fatalf("after 7 s: stalls %d play %v seq %d off %v", p.stalls, p.playTime, p.seq, p.off)
	}
	if got, want := p.continuity(), 5.0/7.0; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("continuity %v, want %v", got, want)
	}
	// Latency: the playhead is 1 s into 12 (PDT t0+4 s) at t0+13 s.
	if lat, ok := p.latency(at(7*time.Second), tl); !ok || lat != 8*time.Second {
		t.Errorf("latency %v %v, want 8s", lat, ok)
	}
	p.advance(at(8500*time.Millisecond), tl) // 12 plays to its end, 13 is missing: stall 2
	if p.stalls != 2 || p.stallTime != 2500*time.Millisecond {
		t.Errorf("stalls %d, want 2", p.stalls)
	}
}

func TestPlaybackCatchUp(t *testing.T) {
	t0 := time.Unix(5000, 0)
	tl := &fakeTimeline{t0: t0, loaded: map[uint64]bool{10: true, 11: true, 12: true}, last: 12}
	p := playback{target: 4 * time.Second}
	start := t0.Add(6 * time.Second) // 6 s behind the edge (t0+6 s): above the 4 s target
	p.start(start, 10, 0)
	p.advance(start.Add(time.Second), tl)
	if p.off != 1100*time.Millisecond || p.playTime != time.Second {
		t.Errorf("off %v play %v, want 1.1s media in 1s", p.off, p.playTime)
	}
}

func TestPlaybackNotStarted(t *testing.T) {
	var p playback
	p.advance(time.Now(), &fakeTimeline{})
	if p.stalls != 0 || p.continuity() != 1 {
		t.Errorf("a playhead that did not start stalls %d, continuity %v", p.stalls, p.continuity())
	}
}
