package comments

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func newTestLimiter(t *testing.T, fc *fakeClock, maxKeys int) *RateLimiter {
	t.Helper()
	l, err := NewRateLimiter(RateLimiterParams{
		PerAuthor:  Bucket{Rate: 1, Burst: 3},
		PerAddress: Bucket{Rate: 2, Burst: 5},
		MaxKeys:    maxKeys,
		Now:        fc.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestRateLimiterSteps(t *testing.T) {
	type step struct {
		advance      time.Duration
		author, addr string
		ok           bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"author burst then refused", []step{
			{0, "ann", "a1", true}, {0, "ann", "a1", true}, {0, "ann", "a1", true},
			{0, "ann", "a1", false},
			{999 * time.Millisecond, "ann", "a1", false},
			{time.Millisecond, "ann", "a1", true}, // one token after 1 s
			{0, "ann", "a1", false},
		}},
		{"address limits many authors", []step{
			{0, "u1", "a1", true}, {0, "u2", "a1", true}, {0, "u3", "a1", true},
			{0, "u4", "a1", true}, {0, "u5", "a1", true},
			{0, "u6", "a1", false}, // address burst 5 spent
			{0, "u6", "a2", true},  // another address is fine
			{500 * time.Millisecond, "u7", "a1", true},
		}},
		{"refused address does not spend the author's token", []step{
			{0, "x1", "a1", true}, {0, "x2", "a1", true}, {0, "x3", "a1", true},
			{0, "x4", "a1", true}, {0, "x5", "a1", true},
			{0, "ann", "a1", false}, {0, "ann", "a1", false}, {0, "ann", "a1", false},
			{0, "ann", "a2", true}, {0, "ann", "a2", true}, {0, "ann", "a2", true},
			{0, "ann", "a2", false},
		}},
		{"refill is capped at burst", []step{
			{0, "ann", "", true},
			{time.Hour, "ann", "", true}, {0, "ann", "", true}, {0, "ann", "", true},
			{0, "ann", "", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &fakeClock{t: testBase}
			l := newTestLimiter(t, fc, 100)
			for i, s := range tt.steps {
				fc.Advance(s.advance)
				err := l.Allow(s.author, s.addr)
				if (err == nil) != s.ok {
					t.Fatalf("step %d (%s@%s): Allow = %v, want ok=%v", i, s.author, s.addr, err, s.ok)
				}
				if err != nil && !errors.Is(err, ErrRateLimited) {
					t.Fatalf("step %d: error %v does not wrap ErrRateLimited", i, err)
				}
			}
		})
	}
}

func TestRateLimiterEvictsIdle(t *testing.T) {
	fc := &fakeClock{t: testBase}
	l := newTestLimiter(t, fc, 1000)
	for i := range 100 {
		if err := l.Allow(fmt.Sprint("u", i), fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	if au, ad := l.Len(); au != 100 || ad != 100 {
		t.Fatalf("Len = %d, %d; want 100, 100", au, ad)
	}
	// Author buckets refill in 3 s, address buckets in 2.5 s.
	fc.Advance(2500 * time.Millisecond)
	_ = l.Allow("", "new")
	if au, ad := l.Len(); au != 100 || ad != 1 {
		t.Fatalf("after 2.5 s: Len = %d, %d; want 100 authors kept, 1 address", au, ad)
	}
	fc.Advance(500 * time.Millisecond)
	_ = l.Allow("u-new", "")
	if au, _ := l.Len(); au != 1 {
		t.Fatalf("after 3 s: %d authors remembered, want 1", au)
	}
}

func TestRateLimiterMaxKeys(t *testing.T) {
	fc := &fakeClock{t: testBase}
	l := newTestLimiter(t, fc, 10)
	for i := range 1000 {
		_ = l.Allow(fmt.Sprint("u", i), fmt.Sprint("a", i))
		if au, ad := l.Len(); au > 10 || ad > 10 {
			t.Fatalf("after %d keys: Len = %d, %d; want <= 10", i+1, au, ad)
		}
	}
	// The most recent key is still limited.
	for range 3 {
		_ = l.Allow("u999", "")
	}
	if err := l.Allow("u999", ""); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("recent key forgotten: Allow = %v", err)
	}
}

func TestNewRateLimiterParams(t *testing.T) {
	tests := []RateLimiterParams{
		{PerAuthor: Bucket{Rate: -1, Burst: 1}},
		{PerAddress: Bucket{Rate: 1, Burst: 0}},
		{MaxKeys: -1},
	}
	for _, p := range tests {
		if _, err := NewRateLimiter(p); !errors.Is(err, ErrParams) {
			t.Errorf("NewRateLimiter(%+v) = %v, want ErrParams", p, err)
		}
	}
}
