package main

import (
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name string
		data string
		want time.Duration
	}{
		{
			name: "busy excludes idle and iowait",
			// user nice system idle iowait irq softirq steal guest guest_nice
			data: "cpu  100 1 20 5000 7 2 3 4 0 0\ncpu0 50 0 10 2500 3 1 1 2 0 0\nintr 1\n",
			want: 1300 * time.Millisecond, // (100+1+20+2+3+4) ticks of 10 ms
		},
		{name: "only per-cpu lines", data: "cpu0 1 2 3 4 5 6 7 8\n", want: -1},
		{name: "too few fields", data: "cpu 1 2 3 4 5 6 7\n", want: -1},
		{name: "not a number", data: "cpu 1 2 x 4 5 6 7 8\n", want: -1},
		{name: "negative", data: "cpu 1 2 -3 4 5 6 7 8\n", want: -1},
		{name: "empty", data: "", want: -1},
		{name: "overflowing", data: "cpu 9000000000000000000 0 0 0 0 0 0 0\n", want: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseProcStat([]byte(tc.data)); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUsageOthers(t *testing.T) {
	tests := []struct {
		name          string
		before, after usage
		want          time.Duration
	}{
		{
			name:   "machine minus self and children",
			before: usage{self: 1 * time.Second, children: 2 * time.Second, machine: 10 * time.Second},
			after:  usage{self: 2 * time.Second, children: 12 * time.Second, machine: 25 * time.Second},
			want:   4 * time.Second, // 15 - 1 - 10
		},
		{
			name:   "clamped at zero (tick granularity)",
			before: usage{machine: 0},
			after:  usage{children: 1010 * time.Millisecond, machine: time.Second},
			want:   0,
		},
		{
			name:   "unknown machine time",
			before: usage{machine: -1},
			after:  usage{children: time.Second, machine: time.Second},
			want:   -1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.after.sub(tc.before).others(); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzParseProcStat: never panics, and a result is -1 or a whole number of ticks.
func FuzzParseProcStat(f *testing.F) {
	f.Add("cpu  100 1 20 5000 7 2 3 4 0 0\n")
	f.Add("cpu 99999999999999999999 0 0 0 0 0 0 0\n")
	f.Add("cpu 9000000000000000000 9000000000000000000 0 0 0 0 0 0\n")
	f.Fuzz(func(t *testing.T, s string) {
		got := parseProcStat([]byte(s))
		if got != -1 && (got < 0 || got%(time.Second/userHZ) != 0) {
			t.Fatalf("parseProcStat(%q) = %v", s, got)
		}
	})
}
