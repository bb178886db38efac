//go:build e2e

package sim

import (
	"context"
	"testing"
	"time"
)

// TestScale: 100,000 viewers and 100 relays over three simulated minutes
// must finish within the two minutes the issue allows on two cores, and
// the run must keep the model's invariants. It is an e2e test: under the
// race detector it runs three times slower.
func TestScale(t *testing.T) {
	c := Defaults()
	c.Viewers, c.Relays, c.Duration, c.ChurnPerMin = 100_000, 100, 3*time.Minute, 0.2
	begin := time.Now()
	res, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(begin)
	st := res.Steady
	t.Logf("100k viewers, 100 relays, 3 min: %v wall; steady egress %.1f Mbit/s, bound %.1f Mbit/s, ratio %.2f; relay+peer %.1f%%",
		wall, st.OriginEgressMbps, st.BoundMbps, st.EgressOverBound, st.RelayPeerShare)
	if wall > 2*time.Minute {
		t.Errorf("took %v, want under 2m", wall)
	}
	checkInvariants(t, c, res)
}

// TestScaleMix: a mixed audience (720p/480p/144p at 60/30/10 %, one swarm
// each) on relay pages with one relay under the origin stays within 1.2×
// of the per-swarm bound, keeps playing and keeps the invariants. 20,000
// viewers keep it a few seconds; docs/CAPACITY.md has the 100,000 run.
func TestScaleMix(t *testing.T) {
	c := Defaults()
	c.Viewers, c.Relays, c.Duration, c.ChurnPerMin = 20_000, 80, 3*time.Minute, 0.2
	c.Pages, c.OriginChildren = PagesRelays, 1
	var err error
	if c.RelayUpload, err = ParseDist("1G"); err != nil {
		t.Fatal(err)
	}
	if c.Renditions, err = ParseRenditions("720p=0.6,480p=0.3,144p=0.1"); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	st := res.Steady
	t.Logf("20k mixed viewers on 80 relays' pages: steady egress %.2f Mbit/s, bound %.2f, ratio %.3f, continuity %.3f%%",
		st.OriginEgressMbps, st.BoundMbps, st.EgressOverBound, st.Continuity)
	if st.EgressOverBound > 1.2 || st.Continuity < 99.5 {
		t.Errorf("egress/bound %v (want ≤ 1.2), continuity %v%% (want ≥ 99.5)", st.EgressOverBound, st.Continuity)
	}
	checkInvariants(t, c, res)
}
