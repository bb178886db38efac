package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestRunOnce builds a real tree of 6 relays with fanout 2 on loopback and
// checks every segment reached every node along a path of depth ≥ 2, and
// that the root sent each segment to exactly its two children.
func TestRunOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	cfg := config{
		fanout: 2, segments: 4, size: 16 << 10, renditions: 2, interval: 50 * time.Millisecond,
		warmup: 1, settle: 30 * time.Second, drain: 20 * time.Second, transport: "tcp",
	}
	r, err := runOnce(ctx, cfg, 6, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Missing != 0 || r.Unrooted != 0 || r.ScanErrors != 0 {
		t.Fatalf("missing %d unrooted %d scan errors %d", r.Missing, r.Unrooted, r.ScanErrors)
	}
	samples := 0
	for _, d := range r.Depths {
		samples += d.Recv.Count
		if d.Recv.P50 <= 0 || d.Hop.P50 <= 0 || d.Hop.P50 > d.Recv.P50 {
			t.Errorf("depth %d: recv %+v hop %+v", d.Depth, d.Recv, d.Hop)
		}
	}
	if samples != 6*4*2 {
		t.Errorf("%d samples, want %d", samples, 6*4*2)
	}
	if len(r.Depths) < 2 {
		t.Errorf("depths %+v: 6 relays with fanout 2 need at least depth 2", r.Depths)
	}
	// Two children, one frame each per segment, frame ≈ data + record.
	if r.FramesPerSegment != 2 || r.VsFanout < 1 || r.VsFanout > 1.05 {
		t.Errorf("root frames/segment %.2f, egress %.3f× fanout×size; want 2 and ≈1", r.FramesPerSegment, r.VsFanout)
	}
}
