package comments

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestClockNow(t *testing.T) {
	base := testBase.UnixMilli()
	steps := []struct {
		name    string
		advance time.Duration
		want    Timestamp
	}{
		{"first reading", 0, Timestamp{base, 0}},
		{"same millisecond", 0, Timestamp{base, 1}},
		{"same millisecond again", 0, Timestamp{base, 2}},
		{"wall clock advances", 5 * time.Millisecond, Timestamp{base + 5, 0}},
		{"wall clock steps back", -time.Second, Timestamp{base + 5, 1}},
		{"still behind", 10 * time.Millisecond, Timestamp{base + 5, 2}},
		{"caught up again", 2 * time.Second, Timestamp{base + 1015, 0}},
	}
	fc := &fakeClock{t: testBase}
	c, err := NewClock(ClockParams{Now: fc.Now})
	if err != nil {
		t.Fatal(err)
	}
	prev := Timestamp{}
	for _, s := range steps {
		fc.Advance(s.advance)
		got := c.Now()
		if got != s.want {
			t.Errorf("%s: Now() = %v, want %v", s.name, got, s.want)
		}
		if !prev.Before(got) {
			t.Errorf("%s: %v not after %v", s.name, got, prev)
		}
		prev = got
	}
}

func TestClockUpdate(t *testing.T) {
	base := testBase.UnixMilli()
	tests := []struct {
		name    string
		last    Timestamp // the clock's state before the update
		remote  Timestamp
		want    Timestamp
		wantErr error
	}{
		{"remote behind local wall", Timestamp{base - 10, 0}, Timestamp{base - 5, 7}, Timestamp{base, 0}, nil},
		{"remote ahead within drift", Timestamp{base, 0}, Timestamp{base + 30_000, 4}, Timestamp{base + 30_000, 5}, nil},
		{"remote equal wall, larger logical", Timestamp{base + 100, 2}, Timestamp{base + 100, 9}, Timestamp{base + 100, 10}, nil},
		{"local ahead of remote", Timestamp{base + 100, 2}, Timestamp{base + 50, 9}, Timestamp{base + 100, 3}, nil},
		{"exactly max drift", Timestamp{base, 0}, Timestamp{base + 60_000, 0}, Timestamp{base + 60_000, 1}, nil},
		{"beyond max drift", Timestamp{base, 0}, Timestamp{base + 60_001, 0}, Timestamp{}, ErrClockDrift},
		{"far future", Timestamp{base, 0}, Timestamp{1 << 62, 0}, Timestamp{}, ErrClockDrift},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &fakeClock{t: testBase}
			c, err := NewClock(ClockParams{Now: fc.Now, MaxDrift: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			c.last = tt.last
			before := c.last
			got, err := c.Update(tt.remote)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Update(%v) error = %v, want %v", tt.remote, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Update(%v) = %v, want %v", tt.remote, got, tt.want)
			}
			if err != nil && c.last != before {
				t.Errorf("rejected update moved the clock from %v to %v", before, c.last)
			}
			if next := c.Now(); !got.Before(next) || !before.Before(next) {
				t.Errorf("Now() after update = %v, not after %v and %v", next, got, before)
			}
		})
	}
}

func TestClockConcurrentUnique(t *testing.T) {
	c, err := NewClock(ClockParams{})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 1000
	var mu sync.Mutex
	seen := make(map[Timestamp]bool)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			local := make([]Timestamp, 0, each)
			for range each {
				local = append(local, c.Now())
			}
			mu.Lock()
			defer mu.Unlock()
			for _, ts := range local {
				seen[ts] = true
			}
		})
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d distinct timestamps from %d readings", len(seen), workers*each)
	}
}

func TestNewClockParams(t *testing.T) {
	if _, err := NewClock(ClockParams{MaxDrift: -time.Second}); !errors.Is(err, ErrParams) {
		t.Fatalf("negative MaxDrift: err = %v, want ErrParams", err)
	}
}

func TestOrder(t *testing.T) {
	a := Timestamp{100, 0}
	tests := []struct {
		name string
		x, y Comment
		want int
	}{
		{"earlier wall", Comment{HLC: a, ID: "b"}, Comment{HLC: Timestamp{101, 0}, ID: "a"}, -1},
		{"logical breaks wall tie", Comment{HLC: Timestamp{100, 2}, ID: "a"}, Comment{HLC: Timestamp{100, 1}, ID: "b"}, 1},
		{"ID breaks full tie", Comment{HLC: a, ID: "a"}, Comment{HLC: a, ID: "b"}, -1},
		{"equal", Comment{HLC: a, ID: "a"}, Comment{HLC: a, ID: "a"}, 0},
	}
	for _, tt := range tests {
		if got := Compare(tt.x, tt.y); got != tt.want {
			t.Errorf("%s: Compare = %d, want %d", tt.name, got, tt.want)
		}
		if got := Compare(tt.y, tt.x); got != -tt.want {
			t.Errorf("%s: reversed Compare = %d, want %d", tt.name, got, -tt.want)
		}
	}
}
