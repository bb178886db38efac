package main

import (
	"errors"
	"slices"
	"testing"
	"time"
)

const wrkClean = `Running 1s test @ http://127.0.0.1:18477/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    43.32ms   74.11ms 421.39ms   88.70%
    Req/Sec   153.22    168.39   380.00     77.78%
  Latency Distribution
     50%    8.87ms
     75%   50.78ms
     90%  122.90ms
     99%  388.30ms
  138 requests in 1.13s, 637.65KB read
Requests/sec:    122.65
Transfer/sec:    566.72KB
`

const wrkNon2xx = `Running 1s test @ http://127.0.0.1:18477/nope
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   146.24ms  202.53ms 679.53ms   79.31%
    Req/Sec    27.50     39.21    85.00     75.00%
  Latency Distribution
     50%    3.29ms
     75%  255.69ms
     90%  478.83ms
     99%  679.53ms
  21 requests in 1.00s, 10.66KB read
  Non-2xx or 3xx responses: 21
Requests/sec:     20.93
Transfer/sec:     10.63KB
`

const wrkFast = `Running 10s test @ http://127.0.0.1:8080/live/bench/r0/19.m4s
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   630.33us  247.94us   1.00m    81.80%
    Req/Sec    24.90k     1.96k   28.62k    75.00%
  Latency Distribution
     50%  584.00us
     75%  729.00us
     90%    0.90ms
     99%    2.00s
  495315 requests in 10.00s, 1.56GB read
  Socket errors: connect 1, read 2, write 3, timeout 4
Requests/sec:  49521.04
Transfer/sec:    159.72MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		reqs     int64
		dur      time.Duration
		read     float64
		rps      float64
		bps      float64
		avg, max time.Duration
		p        []time.Duration // 50, 75, 90, 99
		errs     int64
	}{
		{
			name: "clean", in: wrkClean, reqs: 138, dur: 1130 * time.Millisecond, read: 637.65 * 1024,
			rps: 122.65, bps: 566.72 * 1024, avg: 43320 * time.Microsecond, max: 421390 * time.Microsecond,
			p: []time.Duration{8870 * time.Microsecond, 50780 * time.Microsecond, 122900 * time.Microsecond, 388300 * time.Microsecond},
		},
		{
			name: "non-2xx", in: wrkNon2xx, reqs: 21, dur: time.Second, read: 10.66 * 1024,
			rps: 20.93, bps: 10.63 * 1024, avg: 146240 * time.Microsecond, max: 679530 * time.Microsecond,
			p:    []time.Duration{3290 * time.Microsecond, 255690 * time.Microsecond, 478830 * time.Microsecond, 679530 * time.Microsecond},
			errs: 21,
		},
		{
			name: "units and socket errors", in: wrkFast, reqs: 495315, dur: 10 * time.Second, read: 1.56 * (1 << 30),
			rps: 49521.04, bps: 159.72 * (1 << 20), avg: 630330 * time.Nanosecond, max: time.Minute,
			p:    []time.Duration{584 * time.Microsecond, 729 * time.Microsecond, 900 * time.Microsecond, 2 * time.Second},
			errs: 10,
		},
	}
	near := func(a, b float64) bool { return a-b < 1e-6*max(b, 1) && b-a < 1e-6*max(b, 1) }
	nearD := func(a, b time.Duration) bool { return a-b < time.Microsecond && b-a < time.Microsecond }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseWrk(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Requests != tt.reqs || !nearD(r.Duration, tt.dur) || !near(r.BytesRead, tt.read) {
				t.Errorf("total %d in %v, %v read; want %d in %v, %v", r.Requests, r.Duration, r.BytesRead, tt.reqs, tt.dur, tt.read)
			}
			if !near(r.RequestsSec, tt.rps) || !near(r.BytesSec, tt.bps) {
				t.Errorf("rate %v req/s %v B/s; want %v, %v", r.RequestsSec, r.BytesSec, tt.rps, tt.bps)
			}
			if !nearD(r.LatencyAvg, tt.avg) || !nearD(r.LatencyMax, tt.max) {
				t.Errorf("latency avg %v max %v; want %v, %v", r.LatencyAvg, r.LatencyMax, tt.avg, tt.max)
			}
			for i, q := range []int{50, 75, 90, 99} {
				if !nearD(r.Percentiles[q], tt.p[i]) {
					t.Errorf("p%d = %v, want %v", q, r.Percentiles[q], tt.p[i])
				}
			}
			if r.errors() != tt.errs {
				t.Errorf("errors %d, want %d", r.errors(), tt.errs)
			}
		})
	}
}

func TestParseWrkBad(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"no summary", "Running 1s test @ x\n  1 threads and 1 connections\n"},
		{"bad rate", "  1 requests in 1.00s, 1.00KB read\nRequests/sec: lots\n"},
		{"bad unit", "  1 requests in 1.00s, 1.00XB read\nRequests/sec: 1.0\n"},
		{"bad socket errors", "  Socket errors: connect x\n  1 requests in 1.00s, 1.00KB read\nRequests/sec: 1.0\n"},
		{"unable to connect", "unable to connect to 127.0.0.1:1 Connection refused\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseWrk(tt.in); !errors.Is(err, errWrkOutput) {
				t.Fatalf("err %v, want %v", err, errWrkOutput)
			}
		})
	}
}

func TestWrkArgs(t *testing.T) {
	got := wrkArgs(2, 32, 1500*time.Millisecond, "http://x/y")
	want := []string{"-t", "2", "-c", "32", "-d", "2s", "--latency", "http://x/y"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// FuzzParseWrk: any text either parses or fails with errWrkOutput.
func FuzzParseWrk(f *testing.F) {
	for _, s := range []string{wrkClean, wrkNon2xx, wrkFast, "Requests/sec: 1\n1 requests in 1s, 1B read\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseWrk(s)
		if err != nil && !errors.Is(err, errWrkOutput) {
			t.Fatalf("error %v does not wrap errWrkOutput", err)
		}
		if err == nil && (r.Requests < 0 || r.RequestsSec != r.RequestsSec) {
			t.Fatalf("parsed nonsense: %+v", r)
		}
	})
}
