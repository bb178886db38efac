package main

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
		{"4242 (whepload) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 75 0 0 20 0 7 0 100 1000 200", 3250 * time.Millisecond, false},
		{"4242 (my (odd) name) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0", 30 * time.Millisecond, false},
		{"4242 whepload S 1", 0, true},
		{"4242 (whepload) S 1 2", 0, true},
	}
	for _, tc := range tests {
		got, err := parseStatCPU([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want || (err != nil && !errors.Is(err, errProc)) {
			t.Errorf("parseStatCPU(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"Name:\twhepload\nVmPeak:\t 100 kB\nVmRSS:\t   51200 kB\nThreads: 7\n", 51200 << 10, false},
		{"Name:\twhepload\n", 0, true},
		{"VmRSS:\t 12 MB\n", 0, true},
	}
	for _, tc := range tests {
		got, err := parseVmRSS([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseVmRSS(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	got, err := parseProcStat([]byte("cpu  100 5 50 800 20 1 2 3 40 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil || got != (cpuTicks{busy: 161, total: 981}) {
		t.Fatalf("parseProcStat = %+v, %v; want busy 161 of 981", got, err)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 x 4 5 6\n"} {
		if _, err := parseProcStat([]byte(bad)); !errors.Is(err, errProc) {
			t.Errorf("parseProcStat(%q): err = %v, want errProc", bad, err)
		}
	}
}

func TestParseSNMPUDP(t *testing.T) {
	in := "Tcp: RtoAlgorithm RtoMin\nTcp: 1 200\n" +
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
		"Udp: 1000 3 7 2000 5 1 0 0 0\n" +
		"UdpLite: InDatagrams NoPorts\nUdpLite: 0 0\n"
	got, err := parseSNMPUDP([]byte(in))
	if err != nil || got != (udpCounters{out: 2000, in: 1000, rcvbufErrors: 5, sndbufErrors: 1}) {
		t.Fatalf("parseSNMPUDP = %+v, %v", got, err)
	}
	for _, bad := range []string{"Tcp: A\nTcp: 1\n", "Udp: InDatagrams OutDatagrams\nUdp: 1 2\n", "Udp: InDatagrams\nUdp: 1 2\n"} {
		if _, err := parseSNMPUDP([]byte(bad)); !errors.Is(err, errProc) {
			t.Errorf("parseSNMPUDP(%q): err = %v, want errProc", bad, err)
		}
	}
}
