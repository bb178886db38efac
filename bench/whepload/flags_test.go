package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		argv []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-viewers", "3", "-warmup", "0s", "-window", "2s", "-bitrate", "800k", "-dial-batch", "1"}, true},
		{[]string{"-load-client", "http://127.0.0.1:1/live/bench/whep", "-viewers", "10"}, true},
		{[]string{"-cpuprofile", "/tmp/x.pprof"}, true},
		{[]string{"-viewers", "0"}, false},
		{[]string{"-viewers", "5001"}, false},
		{[]string{"-dial-batch", "0"}, false},
		{[]string{"-warmup", "-1s"}, false},
		{[]string{"-window", "10ms"}, false},
		{[]string{"-window", "1m", "-timeout", "1m"}, false},
		{[]string{"-bitrate", "fast"}, false},
		{[]string{"-bitrate", "1G"}, false},
		{[]string{"-nosuchflag"}, false},
		{[]string{"extra"}, false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.argv, " "), func(t *testing.T) {
			c, err := parseFlags(tc.argv, io.Discard)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok && !errors.Is(err, errFlags) {
				t.Fatalf("err = %v, want errFlags", err)
			}
			if tc.argv == nil && (c.viewers != 200 || c.dialBatch != 20 || c.warmup != 5*time.Second ||
				c.window != 20*time.Second || c.bitrate != 2_500_000 || c.timeout != 5*time.Minute || c.loadClient != "") {
				t.Fatalf("defaults = %+v", c)
			}
		})
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: err = %v, want flag.ErrHelp", err)
	}
}

func TestParseBitrate(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"2.5M", 2_500_000, true},
		{"800k", 800_000, true},
		{"2500000", 2_500_000, true},
		{" 1M ", 1_000_000, true},
		{"100k", 100_000, true},
		{"99k", 0, false},
		{"101M", 0, false},
		{"2.5G", 0, false},
		{"", 0, false},
		{"-1M", 0, false},
	}
	for _, tc := range tests {
		got, err := parseBitrate(tc.in)
		if (err == nil) != tc.ok || got != tc.want || (err != nil && !errors.Is(err, errFlags)) {
			t.Errorf("parseBitrate(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
