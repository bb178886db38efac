package sim

import (
	"bytes"
	"context"
	"errors"
	"math"
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

func mixed(t *testing.T) Config {
	t.Helper()
	c := small()
	m, err := ParseRenditions("720p=0.6,480p=0.3,144p=0.1")
	if err != nil {
		t.Fatal(err)
	}
	c.Renditions = m
	return c
}

// TestMix: with an audience mix the run keeps its invariants, viewers
// spread over the rungs about as weighted, the lower rungs use the relays
// and their own swarms, and the bound is Σ r_i (home uploads exceed what
// each swarm needs).
func TestMix(t *testing.T) {
	c := mixed(t)
	res := mustRun(t, c)
	checkInvariants(t, c, res)
	if len(res.Renditions) != 3 {
		t.Fatalf("renditions %+v", res.Renditions)
	}
	for i, rr := range res.Renditions {
		share := float64(rr.Joined) / float64(res.Viewers.Joined)
		if math.Abs(share-c.Renditions[i].Weight) > 0.06 {
			t.Errorf("%s: %.3f of viewers, want about %v", rr.Name, share, c.Renditions[i].Weight)
		}
		if rr.PeerShare <= 0 || rr.RelayShare <= 0 {
			t.Errorf("%s: peers %v%%, relays %v%%: want both", rr.Name, rr.PeerShare, rr.RelayShare)
		}
	}
	sum := (c.Renditions[0].Rate + c.Renditions[1].Rate + c.Renditions[2].Rate) / 1e6
	if math.Abs(res.Steady.BoundMbps-sum) > 1e-3 {
		t.Errorf("bound %v Mbit/s, want Σ r_i = %v", res.Steady.BoundMbps, sum)
	}
	if res.Config.Renditions == "" || res.Config.TreeRateMbps != 4.584 {
		t.Errorf("config %+v", res.Config)
	}
}

func TestMixSameSeedSameBytes(t *testing.T) {
	a, err := mustRun(t, mixed(t)).JSON()
	if err != nil {
		t.Fatal(err)
	}
	b, err := mustRun(t, mixed(t)).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two mixed runs with the same seed differ")
	}
	d, err := mustRun(t, small()).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, d) || bytes.Contains(d, []byte("renditions")) {
		t.Fatal("the one-rendition run looks like the mixed one, or names renditions")
	}
}

// TestMixOneRung: a mix of one rung is the run without a mix (same
// draws, same numbers), only labelled.
func TestMixOneRung(t *testing.T) {
	c := small()
	c.Bitrate, c.TreeRate = 0, 0
	c.Renditions, _ = ParseRenditions("480p=1")
	m := mustRun(t, c)
	c = small()
	c.Bitrate, _ = RenditionRate("480p")
	p := mustRun(t, c)
	for _, w := range []*Window{&m.Run, &m.Steady} {
		// The aggregate form is the same bound with one rendition.
		if w.BoundAggregateMbps != w.BoundMbps || w.EgressOverBoundAggregate != w.EgressOverBound {
			t.Errorf("one rung: aggregate bound %v, bound %v", w.BoundAggregateMbps, w.BoundMbps)
		}
		w.BoundAggregateMbps, w.EgressOverBoundAggregate = 0, 0
	}
	if m.Steady != p.Steady || m.Run != p.Run {
		t.Fatalf("480p=1 %+v\n-rendition 480p %+v", m.Steady, p.Steady)
	}
}

func TestInvalidMix(t *testing.T) {
	for name, f := range map[string]func(*Config){
		"weights":   func(c *Config) { c.Renditions = []Rendition{{"a", 1e6, 0.5}, {"b", 2e6, 0.3}} },
		"same rate": func(c *Config) { c.Renditions = []Rendition{{"a", 1e6, 0.5}, {"b", 1e6, 0.5}} },
		"tree":      func(c *Config) { c.Renditions, c.TreeRate = []Rendition{{"a", 1e6, 0.5}, {"b", 2e6, 0.5}}, 2.5e6 },
	} {
		c := small()
		f(&c)
		if _, err := Run(context.Background(), c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", name, err)
		}
	}
}
