package webtorrent

import (
	"math/rand/v2"
	"slices"
)

// maxRelayOffers is how many of one announce's offers go to relay nodes
// while viewers can take the rest. Relays first for every offer starved the
// swarm: with five or more relays a viewer's five offers all went to
// relays, full relays refused, and viewers never linked to each other
// (canopy sim at 10,000 viewers and 20 relays: 0.1 links per viewer, 3 %
// of bytes from peers). Two keep a path to a relay's fresh segments; the
// viewer links carry the swarm.
const maxRelayOffers = 2

// pick chooses up to k members of sw other than self to receive self's
// offers: up to maxRelayOffers relay nodes, then viewers in self's network,
// then any viewer, then more relays when viewers run out (a young swarm);
// random within each group. A relay's offers go to viewers only: relays
// only upload, so a link between two of them would carry nothing.
func (sw *swarm) pick(self *member, k int) []*member {
	if k <= 0 {
		return nil
	}
	out := make([]*member, 0, k)
	if self.relay {
		return sample(out, k, sw.viewers, self)
	}
	out = sample(out, min(k, maxRelayOffers), sw.relays, self)
	if self.network.IsValid() {
		out = sample(out, k, sw.byNet[self.network], self)
	}
	out = sample(out, k, sw.viewers, self)
	return sample(out, k, sw.relays, self)
}

// sample appends to out random members of list that are neither self nor
// already in out, until out holds k. It costs O(k) on large lists.
func sample(out []*member, k int, list []*member, self *member) []*member {
	need := k - len(out)
	if need <= 0 || len(list) == 0 {
		return out
	}
	eligible := func(m *member) bool { return m != self && !slices.Contains(out, m) }
	if len(list) <= 2*k+8 {
		for _, i := range rand.Perm(len(list)) {
			if len(out) == k {
				break
			}
			if m := list[i]; eligible(m) {
				out = append(out, m)
			}
		}
		return out
	}
	// Large list: random probes; the few members we may reject (self and
	// those already picked) make misses rare, and a scan from a random
	// start finishes the rare short case.
	for tries := 4*need + 16; tries > 0 && len(out) < k; tries-- {
		if m := list[rand.IntN(len(list))]; eligible(m) {
			out = append(out, m)
		}
	}
	start := rand.IntN(len(list))
	for j := 0; j < len(list) && len(out) < k; j++ {
		if m := list[(start+j)%len(list)]; eligible(m) {
			out = append(out, m)
		}
	}
	return out
}
