package sim

import (
	"math/rand/v2"
	"testing"
)

// pickSim is a swarm of viewers (all direct, all announced) and relays with
// room for everyone, for testing announce alone.
func pickSim(pick string, viewers, relays int) *sim {
	c := Defaults()
	c.Pick = pick
	s := &sim{c: c, r: rand.New(rand.NewPCG(3, 4)), vs: make([]viewer, viewers), relays: make([]relay, relays)}
	for i := range s.vs {
		s.vs[i] = viewer{alive: true, inSwarm: true, direct: true, gen: 1}
	}
	for i := range s.relays {
		s.relays[i] = relay{maxBrowsers: 1000}
	}
	return s
}

func count(v *viewer) (relays, viewers int) {
	for _, n := range v.nbrs {
		if n.i < 0 {
			relays++
		} else {
			viewers++
		}
	}
	return relays, viewers
}

// TestAnnounceCapsRelays: as tracker/webtorrent pick.go, at most two of
// five offers go to relays while there are viewers; relays-first (the old
// pick) gives all five to relays; a young swarm takes more relays.
func TestAnnounceCapsRelays(t *testing.T) {
	for _, tc := range []struct {
		pick            string
		viewers, relays int
		wantR, wantV    int
	}{
		{PickCanopy, 1000, 20, MaxRelayOffers, 5 - MaxRelayOffers},
		{PickCanopy, 1000, 1, 1, 4},
		{PickCanopy, 3, 20, 3, 2}, // two other viewers only: a third relay
		{PickRelaysFirst, 1000, 20, 5, 0},
		{PickRelaysFirst, 1000, 3, 3, 2},
	} {
		s := pickSim(tc.pick, tc.viewers, tc.relays)
		for i := range min(50, tc.viewers) {
			for j := range s.vs {
				s.vs[j].nbrs = s.vs[j].nbrs[:0]
			}
			v := &s.vs[i]
			s.announce(int32(i), 0)
			if r, w := count(v); r != tc.wantR || w != tc.wantV {
				t.Fatalf("%s, %d viewers, %d relays: viewer %d linked to %d relays and %d viewers, want %d and %d",
					tc.pick, tc.viewers, tc.relays, i, r, w, tc.wantR, tc.wantV)
			}
		}
	}
}

// TestAnnounceFullRelays: with 2 of 20 relays able to take browsers, the
// canopy pick wastes most relay offers on full relays (they refuse);
// free-relays skips those and links both free relays every time.
func TestAnnounceFullRelays(t *testing.T) {
	links := map[string]int{}
	for _, pick := range []string{PickCanopy, PickFreeRelays} {
		s := pickSim(pick, 1000, 20)
		for i := range s.relays {
			s.relays[i].maxBrowsers = 0
		}
		s.relays[5].maxBrowsers, s.relays[9].maxBrowsers = 1000, 1000
		for i := range 200 {
			s.announce(int32(i), 0)
			r, _ := count(&s.vs[i])
			links[pick] += r
		}
	}
	if links[PickFreeRelays] != 400 || links[PickCanopy] > 100 {
		t.Errorf("relay links over 200 announces: canopy %d (want about 40), free-relays %d (want 400)",
			links[PickCanopy], links[PickFreeRelays])
	}
}
