package webtorrent

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestPeerSelectionOrder runs the ordering over real sockets: relay nodes
// first, then the announcer's /24, then the rest.
func TestPeerSelectionOrder(t *testing.T) {
	tt := startTracker(t, Params{RelayAuth: testRelayAuth, TrustForwardedFor: true, AnnounceBurst: 1000})
	announcer := dialFrom(t, tt, "10.1.2.3", false)
	type peer struct {
		name, group string
		c           *client
	}
	peers := []peer{
		{"relay", "relay", dialFrom(t, tt, "10.77.0.1", true)},
		{"near1", "near", dialFrom(t, tt, "10.1.2.200", false)},
		{"near2", "near", dialFrom(t, tt, "10.1.2.4", false)},
		{"far1", "far", dialFrom(t, tt, "10.1.3.3", false)},
		{"far2", "far", dialFrom(t, tt, "192.0.2.9", false)},
		{"far_v6", "far", dialFrom(t, tt, "2001:db8::1", false)},
	}
	tests := []struct {
		offers int
		want   map[string]int // receivers per group
	}{
		{1, map[string]int{"relay": 1}},
		{2, map[string]int{"relay": 1, "near": 1}},
		{3, map[string]int{"relay": 1, "near": 2}},
		{4, map[string]int{"relay": 1, "near": 2, "far": 1}},
		{6, map[string]int{"relay": 1, "near": 2, "far": 3}},
		{9, map[string]int{"relay": 1, "near": 2, "far": 3}},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(tc.offers, "_offers"), func(t *testing.T) {
			hash := id20(fmt.Sprintf("order-%d-", i))
			for _, p := range peers {
				p.c.announce(hash, id20(p.name+"-"), 5, nil, "started")
			}
			announcer.announce(hash, id20("announcer-"), 10, offers(tc.offers, "a"), "started")
			got := map[string]int{}
			for _, p := range peers {
				if tryOffer(t, p.c, hash) {
					got[p.group]++
				}
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("receivers per group = %v, want %v", got, tc.want)
			}
		})
	}
}

// A relay's offers never reach another relay: both only upload.
func TestRelayOffersGoToViewersOnly(t *testing.T) {
	tt := startTracker(t, Params{RelayAuth: testRelayAuth, TrustForwardedFor: true, AnnounceBurst: 1000})
	relay := dialFrom(t, tt, "10.77.0.1", true)
	other := dialFrom(t, tt, "10.77.0.2", true)
	viewer := dialFrom(t, tt, "10.1.2.3", false)
	hash := id20("relay-only-")
	other.announce(hash, id20("other-"), 5, nil, "started")
	viewer.announce(hash, id20("viewer-"), 5, nil, "started")
	relay.announce(hash, id20("relay-"), 5, offers(2, "r"), "started")
	if !tryOffer(t, viewer, hash) {
		t.Fatal("the viewer got no offer from the relay")
	}
	if tryOffer(t, other, hash) {
		t.Fatal("a relay's offer reached another relay")
	}
}

// tryOffer reports whether c's next message is an offer, proving with a
// scrape that nothing is pending otherwise.
func tryOffer(t *testing.T, c *client, hash string) bool {
	t.Helper()
	c.send(map[string]any{"action": "scrape", "info_hash": hash})
	m := c.recv()
	if m["offer"] == nil {
		return false
	}
	if r := c.recv(); r["action"] != "scrape" {
		t.Fatalf("after the offer: %v", r)
	}
	return true
}

// TestPickLargeSwarm exercises the sampling path for big groups: order
// by group, no duplicates, never self.
func TestPickLargeSwarm(t *testing.T) {
	sw := newSwarm(binID{1})
	near := netip.MustParsePrefix("10.0.0.0/24")
	mk := func(i int, relay bool, network netip.Prefix) *member {
		m := &member{id: binID{byte(i), byte(i >> 8), 7}, relay: relay, network: network, c: &conn{members: map[binID]*member{}}}
		sw.add(m)
		return m
	}
	var relays, nearby []*member
	for i := range 3 {
		relays = append(relays, mk(i, true, netip.Prefix{}))
	}
	self := mk(100, false, near)
	for i := range 40 {
		nearby = append(nearby, mk(200+i, false, near))
	}
	for i := range 500 {
		mk(1000+i, false, netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/24", 1+i/200, i%200)))
	}
	for _, k := range []int{1, 3, 10, 43, 60} {
		got := sw.pick(self, k)
		if len(got) != k {
			t.Fatalf("k=%d: got %d", k, len(got))
		}
		seen := map[*member]bool{}
		for i, m := range got {
			if m == self || seen[m] {
				t.Fatalf("k=%d: self or duplicate at %d", k, i)
			}
			seen[m] = true
			switch r := maxRelayOffers; {
			case i < r && !slices.Contains(relays, m):
				t.Fatalf("k=%d: position %d is not a relay", k, i)
			case i >= r && i < r+40 && !slices.Contains(nearby, m):
				t.Fatalf("k=%d: position %d is not in the announcer's network", k, i)
			case i >= r+40 && (m.relay || m.network == near):
				t.Fatalf("k=%d: position %d should be a viewer from another network", k, i)
			}
		}
	}
}

// TestPickRelayShare: with many relays an announce still reaches viewers
// (at most maxRelayOffers relays); with few viewers, relays fill the rest.
func TestPickRelayShare(t *testing.T) {
	sw := newSwarm(binID{3})
	mk := func(i int, relay bool) *member {
		m := &member{id: binID{byte(i), byte(i >> 8), 8}, relay: relay, c: &conn{members: map[binID]*member{}}}
		sw.add(m)
		return m
	}
	for i := range 10 {
		mk(i, true)
	}
	self := mk(100, false)
	count := func(got []*member) (relays, viewers int) {
		for _, m := range got {
			if m.relay {
				relays++
			} else {
				viewers++
			}
		}
		return
	}
	mk(101, false)
	if r, v := count(sw.pick(self, 5)); r != 4 || v != 1 {
		t.Fatalf("one other viewer, 10 relays: %d relays and %d viewers picked, want 4 and 1", r, v)
	}
	for i := range 20 {
		mk(200+i, false)
	}
	if r, v := count(sw.pick(self, 5)); r != maxRelayOffers || v != 5-maxRelayOffers {
		t.Fatalf("21 viewers, 10 relays: %d relays and %d viewers picked, want %d and %d", r, v, maxRelayOffers, 5-maxRelayOffers)
	}
}

// TestSwarmIndexes checks the slice indexes stay consistent through random
// joins and leaves.
func TestSwarmIndexes(t *testing.T) {
	sw := newSwarm(binID{2})
	nets := []netip.Prefix{{}, netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("2001:db8::/64")}
	var live []*member
	for step := range 5000 {
		if len(live) > 0 && rand.IntN(3) == 0 {
			i := rand.IntN(len(live))
			sw.remove(live[i])
			live = slices.Delete(live, i, i+1)
		} else {
			m := &member{id: binID{byte(step), byte(step >> 8), 9}, relay: rand.IntN(5) == 0,
				network: nets[rand.IntN(len(nets))], complete: rand.IntN(2) == 0}
			sw.add(m)
			live = append(live, m)
		}
		if step%97 != 0 {
			continue
		}
		if sw.size() != len(live) || len(sw.relays)+len(sw.viewers) != len(live) {
			t.Fatalf("step %d: sizes %d/%d/%d, want %d", step, sw.size(), len(sw.relays), len(sw.viewers), len(live))
		}
		complete := 0
		for _, m := range live {
			if m.complete {
				complete++
			}
			list := sw.viewers
			if m.relay {
				list = sw.relays
			}
			if list[m.idxGroup] != m || (!m.relay && m.network.IsValid() && sw.byNet[m.network][m.idxNet] != m) {
				t.Fatalf("step %d: stale index for %v", step, m.id)
			}
		}
		if complete != sw.complete {
			t.Fatalf("step %d: complete %d, want %d", step, sw.complete, complete)
		}
	}
}
