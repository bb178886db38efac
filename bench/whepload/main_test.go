package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be its own load client: startLoadClient
// re-executes os.Executable with -load-client, as the command does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-load-client" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmoke runs the whole benchmark with 3 viewers for about 2 s.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a load client process and WebRTC sessions")
	}
	cfg, err := parseFlags([]string{"-viewers", "3", "-warmup", "0s", "-window", "1s", "-timeout", "60s"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	n, err := startNode(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	res, err := measure(ctx, cfg, n)
	if cerr := n.close(); cerr != nil {
		t.Errorf("close: %v", cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	m := res.m
	if res.ready.Receiving != 3 || res.ready.Failed != 0 || m.video.viewers != 3 || m.audio.viewers != 3 {
		t.Fatalf("ready %+v; viewers bound %d video, %d audio; want 3", res.ready, m.video.viewers, m.audio.viewers)
	}
	// The window spans whole GOPs: at least one second of the stream.
	if m.wall < time.Second || m.video.in < 200 || m.audio.in < 40 {
		t.Fatalf("window %v with %d video and %d audio packets in", m.wall, m.video.in, m.audio.in)
	}
	if m.forwarded() != 3*(m.video.in+m.audio.in) || m.serverCPU <= 0 || m.ppsPerCore() <= 0 {
		t.Fatalf("forwarded %d of %d in, node CPU %v", m.forwarded(), m.video.in+m.audio.in, m.serverCPU)
	}
	// Loopback with three viewers loses nothing; the samples bracket the
	// same GOP phase, so what was forwarded is what was read, give or take
	// a P-frame still in flight.
	if m.lost() != 0 || m.expected != m.received() {
		t.Fatalf("viewers lost %d of %d packets", m.lost(), m.expected)
	}
	if d := int64(m.forwarded()) - int64(m.received()); d < -100 || d > 100 {
		t.Fatalf("forwarded %d, read %d", m.forwarded(), m.received())
	}
	var out bytes.Buffer
	report(&out, cfg, res)
	if !strings.Contains(out.String(), "3 of 3 receiving video") || !strings.Contains(out.String(), "ratio canopy/LiveKit") {
		t.Fatalf("report:\n%s", out.String())
	}
}
