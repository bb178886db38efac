package main

import (
	"errors"
	"testing"
)

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
