package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func sampleResult() result {
	return result{
		Nodes: 20, Fanout: 4, Segments: 30, Renditions: 1, SegmentBytes: 1 << 20,
		IntervalMS: 500, Transport: "tcp", TreeDepth: 2, RootChildren: 4,
		latency: latency{
			Depths: []depthStats{
				{Depth: 1, Nodes: 4, Recv: summary{Count: 120, P50: 3.5, P99: 9.25}, Hop: summary{Count: 120, P50: 3.5, P99: 9.25}},
				{Depth: 2, Nodes: 16, Recv: summary{Count: 480, P50: 7.125, P99: 20}, Hop: summary{Count: 480, P50: 3.75, P99: 11}},
			},
			Hop: summary{Count: 600, P50: 3.6, P99: 10.5, Max: 30},
		},
		EgressPerSegment: 4 << 20, VsFanout: 1, VsPlain: 0.2, FramesPerSegment: 4,
		MaxRelayEgressPerSegment: 4 << 20,
	}
}

func TestWriteRun(t *testing.T) {
	var b bytes.Buffer
	writeRun(&b, sampleResult())
	out := b.String()
	for _, want := range []string{
		"N=20 relays, fanout 4, 30 segments × 1 rendition(s) × 1.00 MiB every 500 ms over tcp",
		"depth  nodes  samples  recv p50  recv p99",
		"2     16      480    7.12ms   20.00ms",
		"origin egress: 4.00 MiB per segment = 1.00× fanout×size, 0.20× N×size (plain origin)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "incomplete") {
		t.Errorf("complete run reported incomplete:\n%s", out)
	}
	r := sampleResult()
	r.Missing = 3
	b.Reset()
	writeRun(&b, r)
	if !strings.Contains(b.String(), "incomplete: 3 never arrived") {
		t.Errorf("missing deliveries not reported:\n%s", b.String())
	}
}

func TestSummaryLine(t *testing.T) {
	want := "tree N=20 fanout=4: depth 2, deepest p50 7.12ms p99 20.00ms, per hop p50 3.60ms p99 10.50ms; origin egress 4.00 MiB/segment = 1.00× fanout×size, 0.200× plain origin; 0 of 600 deliveries missing"
	if got := summaryLine(sampleResult()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var b bytes.Buffer
	writeSummary(&b, []result{sampleResult()})
	if !strings.Contains(b.String(), want) || !strings.Contains(b.String(), "egress/segment") {
		t.Fatalf("summary:\n%s", b.String())
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, []result{sampleResult()}); err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0]["nodes"] != 20.0 || back[0]["egress_vs_fanout"] != 1.0 {
		t.Fatalf("json %v", back)
	}
	depths, ok := back[0]["depths"].([]any)
	if !ok || len(depths) != 2 {
		t.Fatalf("depths not inlined: %v", back[0])
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{512, "512 B"}, {64 << 10, "64.0 KiB"}, {1.5 * (1 << 20), "1.50 MiB"}}
	for _, tt := range tests {
		if got := human(tt.in); got != tt.want {
			t.Errorf("human(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
