package sim

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func small() Config {
	c := Defaults()
	c.Viewers, c.Relays, c.Duration, c.ChurnPerMin = 400, 4, time.Minute, 0.2
	return c
}

func mustRun(t *testing.T, c Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSameSeedSameBytes(t *testing.T) {
	a, err := mustRun(t, small()).JSON()
	if err != nil {
		t.Fatal(err)
	}
	b, err := mustRun(t, small()).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
	c := small()
	c.Seed = 2
	d, err := mustRun(t, c).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, d) {
		t.Fatal("seeds 1 and 2 gave the same result")
	}
}

func TestSanity(t *testing.T) {
	c := small()
	res := mustRun(t, c)
	w := res.Run
	checkInvariants(t, c, res)
	if w.RelayP2PShare <= 0 || w.PeerShare <= 0 {
		t.Errorf("no P2P at all: relay %v%%, peer %v%%", w.RelayP2PShare, w.PeerShare)
	}
	// The bound is a lower bound on what the origin must send.
	if res.Steady.EgressOverBound < 1 {
		t.Errorf("egress below the bound: %+v", res.Steady)
	}
	if w.Continuity <= 90 || w.Continuity > 100 {
		t.Errorf("continuity %v", w.Continuity)
	}
	if res.TTFS.P50 <= 0 || res.TTFS.P95 < res.TTFS.P50 {
		t.Errorf("ttfs %+v", res.TTFS)
	}
	// Live latency: a target latency behind the edge, plus up to a segment
	// of playlist delay and the segment's own duration.
	if w.LatencyP50S < 6 || w.LatencyP50S > 10 {
		t.Errorf("latency p50 %v s, want 6-10 s in normal mode at 2 s segments", w.LatencyP50S)
	}
}

func TestNoRelaysNoRelayBytes(t *testing.T) {
	c := small()
	c.Relays = 0
	res := mustRun(t, c)
	if res.Run.RelayShare != 0 || res.Run.PeerShare <= 0 {
		t.Fatalf("without relays: relay %v%%, peer %v%% (want 0 and > 0: viewers seed each other)", res.Run.RelayShare, res.Run.PeerShare)
	}
}

func TestPagesOnRelays(t *testing.T) {
	c := small()
	c.Pages = PagesRelays
	res := mustRun(t, c)
	if res.Run.OriginShare != 0 || res.Run.RelayHTTPShare <= 0 {
		t.Fatalf("pages on relays: origin %v%%, relay HTTP %v%%", res.Run.OriginShare, res.Run.RelayHTTPShare)
	}
}

func TestInvalidConfig(t *testing.T) {
	for name, f := range map[string]func(*Config){
		"direct above 1": func(c *Config) { c.Direct = 1.5 },
		"bad mode":       func(c *Config) { c.Mode = "slow" },
		"bad pick":       func(c *Config) { c.Pick = "nearest" },
		"relay pages":    func(c *Config) { c.Pages, c.Relays = PagesRelays, 0 },
	} {
		c := small()
		f(&c)
		if _, err := Run(context.Background(), c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", name, err)
		}
	}
}

func TestCharts(t *testing.T) {
	dir := t.TempDir()
	if err := mustRun(t, small()).WriteCharts(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ChartShare, ChartEgress, ChartTTFS} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s: %v, %d bytes", f, err, len(b))
		}
	}
}
