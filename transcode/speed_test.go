package transcode

import (
	"testing"
	"time"
)

// fakeClock is a manually advanced clock for tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestSpeedWatch(t *testing.T) {
	type step struct {
		wall  time.Duration // wall-clock time advanced before this sample
		media time.Duration // media time advanced
		want  speedEvent
	}
	slow := func(n int) []step { // n seconds at 0.5x
		s := make([]step, n)
		for i := range s {
			s[i] = step{time.Second, 500 * time.Millisecond, speedNone}
		}
		return s
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"real time never warns", []step{
			{0, 0, speedNone}, {time.Second, time.Second, speedNone}, {time.Second, 990 * time.Millisecond, speedNone},
			{time.Second, 1010 * time.Millisecond, speedNone}, {time.Second, 970 * time.Millisecond, speedNone},
		}},
		{"slow for 10 s warns once", concatSteps(
			[]step{{0, 0, speedNone}},
			slow(10), // first slow sample starts the episode at t=1s; t=10s is 9 s in
			[]step{{time.Second, 500 * time.Millisecond, speedWarn}},
			slow(20), // same episode: no second warning
		)},
		{"recovery ends the episode, a new one warns again", concatSteps(
			[]step{{0, 0, speedNone}},
			slow(10),
			[]step{{time.Second, 500 * time.Millisecond, speedWarn}},
			[]step{{time.Second, 2 * time.Second, speedRecovered}},
			slow(10),
			[]step{{time.Second, 500 * time.Millisecond, speedWarn}},
		)},
		{"a fast sample inside the window resets it", concatSteps(
			[]step{{0, 0, speedNone}},
			slow(9),
			[]step{{time.Second, time.Second, speedNone}},
			slow(10),
			[]step{{time.Second, 500 * time.Millisecond, speedWarn}},
		)},
		{"samples closer than a second are merged", []step{
			{0, 0, speedNone}, {100 * time.Millisecond, 0, speedNone}, {100 * time.Millisecond, 0, speedNone},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1000, 0)}
			w := speedWatch{now: clk.now}
			media := time.Duration(0)
			for i, s := range tc.steps {
				clk.advance(s.wall)
				media += s.media
				_, _, ev := w.observe(Progress{OutTime: media})
				if ev != s.want {
					t.Fatalf("step %d: event %d, want %d", i, ev, s.want)
				}
			}
		})
	}
}

func TestSpeedWatchValue(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	w := speedWatch{now: clk.now}
	if _, ok, _ := w.observe(Progress{OutTime: time.Second}); ok {
		t.Fatal("first sample produced a speed")
	}
	clk.advance(2 * time.Second)
	speed, ok, _ := w.observe(Progress{OutTime: 4 * time.Second})
	if !ok || speed != 1.5 {
		t.Fatalf("speed = %v, %v; want 1.5, true", speed, ok)
	}
	// out_time going backwards (a new run) restarts the measurement.
	clk.advance(2 * time.Second)
	if _, ok, _ := w.observe(Progress{OutTime: 0}); ok {
		t.Fatal("backwards out_time produced a speed")
	}
}

func concatSteps[T any](parts ...[]T) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
