package benchutil

import (
	"errors"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"4242 (node) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 75 0 0 20 0 7 0 100 1000 200", 3250 * time.Millisecond, false},
		{"4242 (my (odd) name) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0", 30 * time.Millisecond, false},
		{"4242 node S 1", 0, true},
		{"4242 (node) S 1 2", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseStatCPU([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want || (err != nil && !errors.Is(err, ErrProc)) {
			t.Errorf("ParseStatCPU(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"Name:\tnode\nVmPeak:\t 100 kB\nVmRSS:\t   51200 kB\nThreads: 7\n", 51200 << 10, false},
		{"Name:\tnode\n", 0, true},
		{"VmRSS:\t 12 MB\n", 0, true},
		{"VmRSS:\t x kB\n", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseVmRSS([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want || (err != nil && !errors.Is(err, ErrProc)) {
			t.Errorf("ParseVmRSS(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestSelfReaders(t *testing.T) {
	if rss, err := RSSOf("self"); err != nil || rss <= 0 {
		t.Fatalf("RSSOf(self) = %d, %v", rss, err)
	}
	if _, err := CPUOf("self"); err != nil {
		t.Fatalf("CPUOf(self): %v", err)
	}
	if _, err := CPUSelf(); err != nil {
		t.Fatalf("CPUSelf: %v", err)
	}
}
