package main

import (
	"errors"
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
		{[]string{"-peers", "100", "-swarms", "10", "-rounds", "2", "-spread", "1s"}, true},
		{[]string{"-no-node"}, true},
		{[]string{"-peers", "1"}, false},
		{[]string{"-peers", "10", "-swarms", "11"}, false},
		{[]string{"-rounds", "0"}, false},
		{[]string{"-spread", "-1s"}, false},
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
			if tc.argv == nil && (c.peers != 5000 || c.swarms != 50 || c.rounds != 3 || c.timeout != 5*time.Minute) {
				t.Fatalf("defaults = %+v", c)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {90, 90}, {99, 99}, {100, 100}, {0, 1}, {0.5, 1}}
	for _, tc := range tests {
		if got := percentile(d, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if percentile(nil, 50) != 0 || percentile([]time.Duration{7}, 99) != 7 {
		t.Error("edge cases")
	}
}

func TestDummySDPSize(t *testing.T) {
	s := dummySDP("offer", peerID(42))
	if len(s) < 500 || len(s) > 1200 || !strings.Contains(s, "a=setup:actpass") || !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("dummy SDP (%d bytes):\n%s", len(s), s)
	}
	if len(swarmHash(7)) != 20 || len(peerID(123456)) != 20 || len(randomID()) != 20 {
		t.Fatal("ids must be 20 characters")
	}
}
