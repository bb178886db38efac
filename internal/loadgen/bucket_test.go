package loadgen

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newBucket(1000, 500, t0) // 1000 B/s, burst 500
	steps := []struct {
		at   time.Duration
		n    int
		want time.Duration
	}{
		{0, 500, 0},                                     // the burst is free
		{0, 100, 100 * time.Millisecond},                // then 1 ms per byte
		{0, 100, 200 * time.Millisecond},                // queued behind the previous
		{200 * time.Millisecond, 0, 0},                  // paid back exactly
		{700 * time.Millisecond, 500, 0},                // refilled to the burst
		{10 * time.Second, 600, 100 * time.Millisecond}, // never more than the burst
	}
	for i, s := range steps {
		if got := b.reserve(t0.Add(s.at), s.n); got != s.want {
			t.Errorf("step %d: reserve(%v, %d) = %v, want %v", i, s.at, s.n, got, s.want)
		}
	}
	var unlimited *bucket
	if d := unlimited.reserve(t0, 1<<30); d != 0 {
		t.Errorf("nil bucket waits %v", d)
	}
	if d := newBucket(0, 0, t0).reserve(t0, 1<<30); d != 0 {
		t.Errorf("rate 0 (no cap) waits %v", d)
	}
}
