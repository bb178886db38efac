package sim

import (
	"math"
	"slices"
)

// announce is a viewer's tracker announce: its offers go to the peers
// tracker/webtorrent pick.go would choose (pick is unexported and draws
// from the global random source, so it is mirrored here with the run's
// seeded one): up to MaxRelayOffers relay nodes, then viewers, then more
// relays when viewers run out, at random within each group (Config.Pick
// selects the what-ifs). The model has no networks, so the "same network"
// group is empty. An offer to a relay that already serves its maximum of
// browsers goes unanswered (node/superpeer refuses it); an offer between
// two viewers connects only when both can connect directly. With an
// audience mix the viewer announces in its own rendition's swarm (its
// info hash), so only viewers of that rendition are picked; relays are in
// every swarm.
func (s *sim) announce(i int32, now int64) {
	v := &s.vs[i]
	v.inSwarm = true
	k := s.c.Offers
	if s.c.MaxPeers > 0 {
		k = min(k, s.c.MaxPeers-s.livePeers(v))
	}
	if k <= 0 {
		return
	}
	var picked [64]int32
	out := picked[:0]
	if s.c.Pick == PickRelaysFirst {
		out = s.sampleRelays(out, k)
	} else {
		out = s.sampleRelays(out, min(k, MaxRelayOffers))
	}
	out = s.sampleViewers(out, i, k)
	out = s.sampleRelays(out, k)
	for _, p := range out {
		if p < 0 {
			rl := &s.relays[-1-p]
			if rl.browsers < rl.maxBrowsers && !connected(v, ref{i: p}) {
				rl.browsers++
				v.nbrs = append(v.nbrs, ref{i: p})
			}
			continue
		}
		// A viewer without direct connectivity still sends its offers, but
		// no viewer can answer them.
		w := &s.vs[p]
		if v.direct && w.direct && !s.full(w) && !connected(v, ref{i: p, gen: w.gen}) {
			v.nbrs = append(v.nbrs, ref{i: p, gen: w.gen})
			w.nbrs = append(w.nbrs, ref{i: i, gen: v.gen})
		}
	}
}

// sampleViewers appends up to k random viewers of self's swarm (its
// rendition) other than self (as indexes into sim.vs) to out, as pick.go's
// sample does: random probes, then a scan from a random start for the rare
// short case (a young swarm).
func (s *sim) sampleViewers(out []int32, self int32, k int) []int32 {
	return s.sampleSwarm(out, self, s.vs[self].rend, k)
}

// sampleSwarm appends up to k random viewers of rendition rd's swarm
// other than self (-1: none) to out. The probes are scaled by the swarm's
// share of the audience, so a small swarm is found by probing too.
func (s *sim) sampleSwarm(out []int32, self int32, rd uint8, k int) []int32 {
	ok := func(j int32) bool {
		w := &s.vs[j]
		return j != self && w.alive && w.inSwarm && w.rend == rd && !slices.Contains(out, j)
	}
	n := len(s.vs)
	for tries := s.probes(rd, k-len(out)); tries > 0 && len(out) < k; tries-- {
		if j := int32(s.r.IntN(n)); ok(j) {
			out = append(out, j)
		}
	}
	if len(out) < k {
		start := s.r.IntN(n)
		for j := 0; j < n && len(out) < k; j++ {
			if jj := int32((start + j) % n); ok(jj) {
				out = append(out, jj)
			}
		}
	}
	return out
}

// sampleRelays appends distinct random relays (as refs: -1 - index) to out
// until it holds k. Under PickFreeRelays, full relays are skipped.
func (s *sim) sampleRelays(out []int32, k int) []int32 {
	n := len(s.relays)
	ok := func(j int) bool {
		if slices.Contains(out, int32(-1-j)) {
			return false
		}
		rl := &s.relays[j]
		return s.c.Pick != PickFreeRelays || (rl.browsers < rl.maxBrowsers && rl.lag >= 0)
	}
	if n == 0 || len(out) >= k {
		return out
	}
	if n <= 2*k+8 {
		for _, j := range s.r.Perm(n) {
			if len(out) == k {
				break
			}
			if ok(j) {
				out = append(out, int32(-1-j))
			}
		}
		return out
	}
	for tries := 4*(k-len(out)) + 16; tries > 0 && len(out) < k; tries-- {
		if j := s.r.IntN(n); ok(j) {
			out = append(out, int32(-1-j))
		}
	}
	start := s.r.IntN(n)
	for j := 0; j < n && len(out) < k; j++ {
		if jj := (start + j) % n; ok(jj) {
			out = append(out, int32(-1-jj))
		}
	}
	return out
}

// probes is how many random probes look for want viewers of rendition
// rd: 4·want + 16, divided by the rendition's share of the audience.
func (s *sim) probes(rd uint8, want int) int {
	n := 4*want + 16
	if w := s.rends[rd].Weight; w < 1 {
		n = int(math.Ceil(float64(n) / w))
	}
	return n
}

// relayAnnounce: a relay with room sends offers to random viewers of each
// rendition's swarm in turn (pick.go gives a relay's offers to viewers
// only; node/superpeer announces in every rendition's swarm, each announce
// carrying min(offers, MaxPeers − connections of the whole node)); every
// viewer can reach a relay. The relay's browser limit is per node, across
// swarms, as superpeer's MaxPeers.
func (s *sim) relayAnnounce(ri int32, now int64) {
	rl := &s.relays[ri]
	p := -1 - ri
	for rd := range s.rends {
		offers := min(s.c.Offers, rl.maxBrowsers-rl.browsers)
		for tries := s.probes(uint8(rd), offers); tries > 0 && offers > 0; tries-- {
			j := int32(s.r.IntN(len(s.vs)))
			w := &s.vs[j]
			if !w.alive || !w.inSwarm || w.rend != uint8(rd) {
				continue
			}
			offers--
			if !s.full(w) && !connected(w, ref{i: p}) {
				rl.browsers++
				w.nbrs = append(w.nbrs, ref{i: p})
				s.evaluate(j, now)
			}
		}
	}
}

// livePeers counts v's connections to relays and to viewers still there.
func (s *sim) livePeers(v *viewer) int {
	n := 0
	for _, r := range v.nbrs {
		if r.i < 0 || (s.vs[r.i].alive && s.vs[r.i].gen == r.gen) {
			n++
		}
	}
	return n
}

// full reports whether v is at Config.MaxPeers connections and so answers
// no more offers.
func (s *sim) full(v *viewer) bool {
	return s.c.MaxPeers > 0 && s.livePeers(v) >= s.c.MaxPeers
}

func connected(v *viewer, p ref) bool {
	for _, n := range v.nbrs {
		if n == p {
			return true
		}
	}
	return false
}
