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
	s := &sim{c: c, r: rand.New(rand.NewPCG(3, 4)), vs: make([]viewer, viewers), relays: make([]relay, relays),
		rends: []rend{{Rendition: Rendition{Rate: c.Bitrate, Weight: 1}, cum: 1}}}
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

// mixSim is pickSim with viewers spread over three renditions (weights
// 0.6, 0.3, 0.1: viewer i watches rendition 0 unless i%10 is 6-8 (1) or
// 9 (2)).
func mixSim(viewers, relays int) *sim {
	s := pickSim(PickCanopy, viewers, relays)
	s.rends = []rend{{Rendition: Rendition{Rate: 3e6, Weight: 0.6}, cum: 0.6},
		{Rendition: Rendition{Rate: 1e6, Weight: 0.3}, cum: 0.9}, {Rendition: Rendition{Rate: 3e5, Weight: 0.1}, cum: 1}}
	for i := range s.vs {
		s.vs[i].known = -1 // nothing to fetch: evaluate after a relay link is a no-op
		switch i % 10 {
		case 6, 7, 8:
			s.vs[i].rend = 1
		case 9:
			s.vs[i].rend = 2
		}
	}
	return s
}

// TestAnnounceOneSwarmPerRendition: viewers link only to viewers of their
// own rendition (the smallest swarm too) and still get relays, which are
// in every swarm.
func TestAnnounceOneSwarmPerRendition(t *testing.T) {
	s := mixSim(1000, 20)
	for i := range 300 {
		s.announce(int32(i), 0)
	}
	perRend := map[uint8]int{}
	for i := range 300 {
		v := &s.vs[i]
		r, w := count(v)
		for _, n := range v.nbrs {
			if n.i >= 0 && s.vs[n.i].rend != v.rend {
				t.Fatalf("viewer %d (rendition %d) linked to viewer %d (rendition %d)", i, v.rend, n.i, s.vs[n.i].rend)
			}
		}
		if r >= MaxRelayOffers && w > 0 {
			perRend[v.rend]++
		}
	}
	for rd := range uint8(3) {
		if perRend[rd] == 0 {
			t.Errorf("no viewer of rendition %d got relays and viewers: %v", rd, perRend)
		}
	}
}

// TestRelayBrowsersPerNode: a relay's browser limit holds across the
// rendition swarms together (node/superpeer's MaxPeers counts all swarms),
// and its announces reach every swarm.
func TestRelayBrowsersPerNode(t *testing.T) {
	s := mixSim(1000, 1)
	s.relays[0].maxBrowsers = 12
	s.c.Offers = 5
	for range 10 {
		s.relayAnnounce(0, 0)
	}
	got := map[uint8]int{}
	for i := range s.vs {
		for _, n := range s.vs[i].nbrs {
			if n.i < 0 {
				got[s.vs[i].rend]++
			}
		}
	}
	if s.relays[0].browsers != 12 || got[0]+got[1]+got[2] != 12 {
		t.Fatalf("relay holds %d browsers (%v by rendition), want its limit 12 over all swarms", s.relays[0].browsers, got)
	}
	if got[0] != 5 || got[1] != 5 || got[2] != 2 {
		t.Fatalf("first announce round: %v by rendition, want 5, 5, then the 2 left", got)
	}
}
