package sim

import (
	"testing"
)

// checkInvariants checks what must hold for any run whose viewers play
// without long stalls: the origin sends at least the bound (it is a lower
// bound), the bytes viewers received match what they played, and the
// shares add up.
func checkInvariants(t *testing.T, c Config, res *Result) {
	t.Helper()
	if res.Viewers.Started < int64(c.Viewers) {
		t.Errorf("only %d of %d+ viewers started", res.Viewers.Started, c.Viewers)
	}
	for name, w := range map[string]Window{"run": res.Run, "steady": res.Steady} {
		if w.OriginEgressMbps < w.BoundMbps {
			t.Errorf("%s: origin egress %v Mbit/s below the bound %v", name, w.OriginEgressMbps, w.BoundMbps)
		}
		if sum := w.OriginShare + w.RelayHTTPShare + w.RelayP2PShare + w.PeerShare; sum < 99.9 || sum > 100.1 {
			t.Errorf("%s: shares add up to %v", name, sum)
		}
		// The origin's egress holds at least its HTTP share of what viewers got.
		if float64(w.OriginEgressBytes) < w.OriginShare/100*float64(w.ViewerBytes)*0.999 {
			t.Errorf("%s: egress %d bytes < origin share %v%% of %d", name, w.OriginEgressBytes, w.OriginShare, w.ViewerBytes)
		}
	}
	// Every second played needs r bits; viewers also hold a few segments of
	// buffer when they leave or the run ends (the target latency's worth
	// at most, plus the segment being fetched).
	w := res.Run
	played := w.WatchS * c.withDefaults().Bitrate / 8
	if len(c.Renditions) > 0 {
		played = 0
		var bytes int64
		var joined int64
		for i, rr := range res.Renditions {
			p := rr.RunWatchS * c.Renditions[i].Rate / 8
			if got := float64(rr.RunBytes); got < 0.99*p*w.Continuity/100 || got > 1.25*p {
				t.Errorf("%s: viewers got %.0f bytes for %.0f s of playback (%.0f bytes)", rr.Name, got, rr.RunWatchS, p)
			}
			played += p
			bytes += rr.RunBytes
			joined += rr.Joined
		}
		if bytes != w.ViewerBytes || joined != res.Viewers.Joined {
			t.Errorf("renditions add up to %d bytes and %d viewers, the run to %d and %d", bytes, joined, w.ViewerBytes, res.Viewers.Joined)
		}
		for name, x := range map[string]Window{"run": res.Run, "steady": res.Steady} {
			if x.BoundAggregateMbps > x.BoundMbps || x.OriginEgressMbps < x.BoundMbps {
				t.Errorf("%s: aggregate bound %v, per-swarm bound %v, egress %v: want aggregate ≤ per-swarm ≤ egress",
					name, x.BoundAggregateMbps, x.BoundMbps, x.OriginEgressMbps)
			}
		}
	}
	if got := float64(w.ViewerBytes); got < 0.99*played*w.Continuity/100 || got > 1.25*played {
		t.Errorf("viewers got %.0f bytes for %.0f s of playback (%.0f bytes)", got, w.WatchS, played)
	}
}
