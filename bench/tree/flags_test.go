package main

import (
	"errors"
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  bool
	}{
		{"1MiB", 1 << 20, false}, {"64KiB", 64 << 10, false}, {"4096", 4096, false},
		{"1.5MiB", 3 << 19, false}, {"2M", 2 << 20, false}, {"1MB", 1_000_000, false},
		{"", 0, true}, {"0", 0, true}, {"-1KiB", 0, true}, {"lots", 0, true}, {"2GiB", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, errSize) {
			t.Errorf("parseSize(%q) error %v is not errSize", tt.in, err)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name  string
		argv  []string
		ok    bool
		nodes []int
	}{
		{"defaults", nil, true, []int{5, 10, 20, 50}},
		{"list", []string{"-nodes", "3, 7", "-size", "64KiB"}, true, []int{3, 7}},
		{"zero nodes", []string{"-nodes", "0"}, false, nil},
		{"bad transport", []string{"-transport", "udp"}, false, nil},
		{"zero fanout", []string{"-fanout", "0"}, false, nil},
		{"stray argument", []string{"x"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.argv, io.Discard)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !slices.Equal(c.nodes, tt.nodes) {
				t.Fatalf("nodes %v, want %v", c.nodes, tt.nodes)
			}
			if tt.ok && (c.fanout != 4 || c.interval != 500*time.Millisecond) {
				t.Fatalf("defaults: %+v", c)
			}
		})
	}
}
