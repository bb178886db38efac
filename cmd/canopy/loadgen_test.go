//go:build e2e

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLoadgenLocal runs `canopy loadgen -local` with 20 viewers for 30 s
// against the in-process stack (real ffmpeg, relay nodes, tracker) and
// checks that relays and peers carry most bytes, playback does not stall,
// nothing fails verification, viewers exchange segments among themselves
// and the origin's egress (HTTP and relay tree) is measured.
func TestLoadgenLocal(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "result.json")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := runLoadgen(ctx, []string{"-local", "-viewers", "20", "-duration", "30s", "-ramp", "5s",
		"-churn", "0", "-baseline=false", "-pages", "origin", "-json", out, "-charts", dir}, &stdout, &stderr)
	t.Log(stdout.String())
	if err != nil {
		t.Fatalf("loadgen: %v\n%s", err, stderr.String())
	}
	var rep loadgenReport
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	tot := rep.P2P.Totals
	if tot.RelayPeerShare <= 0.5 {
		t.Errorf("relay + peer share %.3f, want > 0.5", tot.RelayPeerShare)
	}
	if tot.VerifyFailed != 0 || tot.BadRecords != 0 {
		t.Errorf("%d verification failures, %d bad records, want none", tot.VerifyFailed, tot.BadRecords)
	}
	if tot.SegsViewer == 0 {
		t.Errorf("no segment went from viewer to viewer")
	}
	if tot.TTFSp50 <= 0 {
		t.Errorf("no time to first segment measured")
	}
	// 20 viewers leave the machine mostly idle: stalls here are bugs.
	if tot.Continuity < 0.99 {
		t.Errorf("continuity %.4f (%d stalls, %v stalled), want ≥ 0.99", tot.Continuity, tot.Stalls, tot.StallTime)
	}
	// The origin's egress is measured, relay tree included.
	if e := rep.P2P.OriginParts; e.Tree <= 0 || e.HTTP <= 0 || rep.P2P.OriginEgress != e.Total() {
		t.Errorf("origin egress %d: parts %+v, want HTTP and relay tree bytes", rep.P2P.OriginEgress, e)
	}
	if len(rep.EdgeLags) != 5 || rep.EdgeLags[1].Segments == 0 {
		t.Errorf("edge lags %+v, want the origin and 4 relays with segments", rep.EdgeLags)
	}
	for _, name := range []string{"shares.svg", "origin-egress.svg", "ttfs-cdf.svg"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("chart: %v", err)
		}
	}
}
