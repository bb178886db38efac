package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/canopylive/canopy/sfu"
)

func TestForwarded(t *testing.T) {
	tests := []struct {
		k    kindCounts
		want uint64
	}{
		{kindCounts{viewers: 200, in: 5600}, 1_120_000},
		{kindCounts{viewers: 200, in: 5600, dropped: 1000, retransmitted: 10}, 1_119_010},
		{kindCounts{viewers: 0, in: 5600}, 0},
		{kindCounts{viewers: 1, in: 5, dropped: 9}, 0},
	}
	for _, tc := range tests {
		if got := tc.k.forwarded(); got != tc.want {
			t.Errorf("%+v.forwarded() = %d, want %d", tc.k, got, tc.want)
		}
	}
}

func TestNewMeasurement(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s0 := sample{at: t0, cpu: 10 * time.Second, childCPU: 3 * time.Second,
		video: sfu.TrackStats{PacketsIn: 1000, Viewers: 2}, audio: sfu.TrackStats{PacketsIn: 100, Viewers: 2},
		machine: cpuTicks{busy: 100, total: 400}, udp: udpCounters{out: 50},
		client: snapshot{Video: []uint64{10, 20}, Audio: []uint64{1, 2}, Bytes: []uint64{1000, 2000}, Expected: []uint64{11, 22}}}
	s1 := sample{at: t0.Add(20 * time.Second), cpu: 12 * time.Second, childCPU: 5 * time.Second,
		video: sfu.TrackStats{PacketsIn: 6600, Viewers: 2, Dropped: 4}, audio: sfu.TrackStats{PacketsIn: 1100, Viewers: 2},
		machine: cpuTicks{busy: 3100, total: 4400}, udp: udpCounters{out: 13_450},
		client: snapshot{Video: []uint64{5610, 5616}, Audio: []uint64{1001, 1002}, Bytes: []uint64{1000 + 8e6, 2000 + 8e6},
			Expected: []uint64{11 + 6601, 22 + 6600}}}
	m := newMeasurement(s0, s1, 2)

	// Forwarded: (5600 × 2 − 4) video + 1000 × 2 audio = 13,196 packets.
	if got := m.forwarded(); got != 13_196 {
		t.Fatalf("forwarded = %d, want 13196", got)
	}
	// Read: 5600 + 5596 video + 1000 + 1000 audio = 13,196.
	if got := m.received(); got != 13_196 {
		t.Fatalf("received = %d, want 13196", got)
	}
	if m.lost() != 5 || m.expected != 13_201 {
		t.Fatalf("lost = %d of %d, want 5 of 13201", m.lost(), m.expected)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("cores", m.cores(), 0.1)                    // 2 s of CPU over 20 s
	near("pps", m.rate(m.forwarded()), 659.8)        // 13,196 / 20 s
	near("pps per core", m.ppsPerCore(), 6598)       // 13,196 / 2 CPU s
	near("machine busy", m.machineBusy, 3000.0/4000) // busy ticks / all ticks
	near("udp out/s", m.rate(m.udp.out), 670)
	if len(m.viewerPPS) != 2 || m.viewerPPS[0] > m.viewerPPS[1] {
		t.Fatalf("viewerPPS = %v, want 2 ascending", m.viewerPPS)
	}
	near("slowest viewer", m.viewerPPS[0], (5596+1000)/20.0)

	var out bytes.Buffer
	report(&out, config{viewers: 2}, result{ready: readyMsg{Dialled: 2, Receiving: 2, Connected: 2}, m: m,
		loadBefore: "0.10", loadEnd: "1.50", rssBase: 10 << 20, rss: 30 << 20})
	for _, want := range []string{
		"6,598 packets/s per core",
		"LiveKit's published figure: ~35,000 packets/s per core (cited, not measured here)",
		"ratio canopy/LiveKit: 0.19x",
		"0.10 before the run, 1.50 at the end",
		"check: NOT VALID, the figures above are not comparable: the sfu dropped 4 packets",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestGroup(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 35_000: "35,000",
		1_234_567.4: "1,234,567", 999.5: "1,000", -1234: "-1,234"} {
		if got := group(in); got != want {
			t.Errorf("group(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var v []float64
	for i := 1; i <= 200; i++ {
		v = append(v, float64(i))
	}
	for p, want := range map[float64]float64{0: 1, 50: 100, 100: 200, 99: 198} {
		if got := percentile(v, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}

func TestProblems(t *testing.T) {
	cfg := config{viewers: 200}
	valid := func() result {
		return result{ready: readyMsg{Dialled: 200, Receiving: 200, Connected: 200}, m: measurement{
			wall: 20 * time.Second, serverCPU: 15 * time.Second, viewersBefore: 200,
			video:    kindCounts{viewers: 200, in: 5480, received: 1_096_000, retransmitted: 100},
			audio:    kindCounts{viewers: 200, in: 1000, received: 200_000},
			expected: 1_296_000,
		}}
	}
	tests := []struct {
		name   string
		change func(*result)
		want   string // "" for a valid run
	}{
		{"valid", func(*result) {}, ""},
		{"missing viewers", func(r *result) { r.ready.Receiving = 199 }, "only 199 of 200 viewers"},
		{"viewers changed", func(r *result) { r.m.video.viewers = 198 }, "viewers bound changed"},
		{"source late", func(r *result) { r.m.audio.in = 900 }, "the source fell behind"},
		{"loss", func(r *result) { r.m.expected += 2000; r.m.udp.rcvbufErrors = 7 }, "lost 0.15 % of packets on the way (7 UDP"},
		{"loss within limit", func(r *result) { r.m.expected += 1000 }, ""},
		{"sfu drops", func(r *result) { r.m.video.dropped = 3 }, "dropped 3 packets"},
		{"retransmissions", func(r *result) { r.m.video.retransmitted = 20_000 }, "retransmissions are 1.5 %"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.change(&r)
			got := strings.Join(problems(cfg, r), "; ")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("problems = %q, want %q", got, tc.want)
			}
			var out bytes.Buffer
			report(&out, cfg, r)
			if valid := strings.Contains(out.String(), "check: valid"); valid != (tc.want == "") {
				t.Fatalf("report check line wrong for %q:\n%s", got, out.String())
			}
		})
	}
}
