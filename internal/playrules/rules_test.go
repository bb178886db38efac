package playrules

import (
	"testing"
	"time"
)

func TestLiveWindows(t *testing.T) {
	const s = time.Second
	tests := []struct {
		mode    Mode
		seg     time.Duration
		want    Windows
		latency time.Duration
	}{
		{Normal, 2 * s, Windows{HighDemand: 2 * s, HTTP: 6 * s, P2P: 10 * s}, 6 * s},
		{Fast, 2 * s, Windows{HighDemand: 2 * s, HTTP: 4 * s, P2P: 8 * s}, 4 * s},
		{Normal, 4 * s, Windows{HighDemand: 4 * s, HTTP: 12 * s, P2P: 20 * s}, 12 * s},
		{"bogus", 1 * s, Windows{HighDemand: 1 * s, HTTP: 3 * s, P2P: 5 * s}, 3 * s},
	}
	for _, tt := range tests {
		if got := LiveWindows(tt.mode, tt.seg); got != tt.want {
			t.Errorf("LiveWindows(%q, %v) = %+v, want %+v", tt.mode, tt.seg, got, tt.want)
		}
		if got := TargetLatency(tt.mode, tt.seg); got != tt.latency {
			t.Errorf("TargetLatency(%q, %v) = %v, want %v", tt.mode, tt.seg, got, tt.latency)
		}
	}
	if !Normal.Valid() || !Fast.Valid() || Mode("slow").Valid() {
		t.Error("Valid: want normal and fast only")
	}
}

func TestChoose(t *testing.T) {
	const s = time.Second
	w := LiveWindows(Normal, 2*s) // high demand 2 s, HTTP 6 s, P2P 10 s
	base := SegmentState{Peers: 4, HTTPSlots: HTTPSlots, P2PSlots: P2PSlots}
	with := func(f func(*SegmentState)) SegmentState { st := base; f(&st); return st }
	tests := []struct {
		name string
		st   SegmentState
		rnd  float64
		want Choice
	}{
		{"loaded", with(func(x *SegmentState) { x.Loaded = true; x.StartsIn = -s }), 0, Wait},
		{"needed now: HTTP", with(func(x *SegmentState) { x.StartsIn = -s; x.PeersHave = 3 }), 0.9, HTTP},
		{"high-demand edge inclusive: HTTP", with(func(x *SegmentState) { x.StartsIn = 2 * s; x.PeersHave = 1 }), 0.9, HTTP},
		{"just past high demand, peer has it: P2P", with(func(x *SegmentState) { x.StartsIn = 2*s + 1; x.PeersHave = 1 }), 0.9, P2P},
		{"high demand, HTTP full, peer has it: P2P", with(func(x *SegmentState) { x.StartsIn = s; x.HTTPBusy = 2; x.PeersHave = 1 }), 0.9, P2P},
		{"high demand, HTTP full, nobody has it: wait", with(func(x *SegmentState) { x.StartsIn = s; x.HTTPBusy = 2 }), 0, Wait},
		{"high demand, HTTP and P2P full: wait", with(func(x *SegmentState) { x.StartsIn = s; x.HTTPBusy = 2; x.P2PBusy = 3; x.PeersHave = 1 }), 0, Wait},
		{"high demand, P2P in flight, HTTP free: switch", with(func(x *SegmentState) { x.StartsIn = s; x.InFlight = P2P; x.P2PBusy = 1; x.PeersHave = 1 }), 0.9, HTTP},
		{"high demand, P2P in flight, HTTP full: keep", with(func(x *SegmentState) { x.StartsIn = s; x.InFlight = P2P; x.HTTPBusy = 2; x.PeersHave = 1 }), 0.9, Wait},
		{"high demand, HTTP in flight: keep", with(func(x *SegmentState) { x.StartsIn = s; x.InFlight = HTTP; x.HTTPBusy = 1 }), 0.9, Wait},
		{"regular, P2P in flight: keep", with(func(x *SegmentState) { x.StartsIn = 4 * s; x.InFlight = P2P; x.PeersHave = 1 }), 0, Wait},
		{"P2P window edge inclusive", with(func(x *SegmentState) { x.StartsIn = 10 * s; x.PeersHave = 1 }), 0, P2P},
		{"beyond P2P window", with(func(x *SegmentState) { x.StartsIn = 10*s + 1; x.PeersHave = 1 }), 0, Wait},
		{"regular, P2P slots full", with(func(x *SegmentState) { x.StartsIn = 4 * s; x.PeersHave = 1; x.P2PBusy = 3 }), 0, Wait},
		{"regular, peer only loading: wait, no seeding", with(func(x *SegmentState) { x.StartsIn = 4 * s; x.PeersLoading = 1 }), 0, Wait},
		{"seed: HTTP window edge inclusive, lucky draw", with(func(x *SegmentState) { x.StartsIn = 6 * s }), 0.19, HTTP},
		{"seed: unlucky draw (1/(4+1) = 0.2)", with(func(x *SegmentState) { x.StartsIn = 6 * s }), 0.2, Wait},
		{"seed: beyond HTTP window", with(func(x *SegmentState) { x.StartsIn = 6*s + 1 }), 0, Wait},
		{"seed: no peers connected", with(func(x *SegmentState) { x.StartsIn = 4 * s; x.Peers = 0 }), 0, Wait},
		{"seed: HTTP slots full", with(func(x *SegmentState) { x.StartsIn = 4 * s; x.HTTPBusy = 2 }), 0, Wait},
	}
	for _, tt := range tests {
		if got := Choose(w, tt.st, tt.rnd); got != tt.want {
			t.Errorf("%s: Choose(%+v, rnd %v) = %v, want %v", tt.name, tt.st, tt.rnd, got, tt.want)
		}
	}
}

func TestChooseFastEdgeIsUrgent(t *testing.T) {
	// Fast mode: a new segment starts latency - D = D ahead, which is the
	// high-demand edge, so it goes to HTTP on arrival even when a relay has it.
	seg := 2 * time.Second
	w := LiveWindows(Fast, seg)
	st := SegmentState{StartsIn: TargetLatency(Fast, seg) - seg, PeersHave: 1, Peers: 1, HTTPSlots: HTTPSlots, P2PSlots: P2PSlots}
	if got := Choose(w, st, 0.99); got != HTTP {
		t.Fatalf("fast edge: got %v, want http", got)
	}
	w = LiveWindows(Normal, seg)
	st.StartsIn = TargetLatency(Normal, seg) - seg
	if got := Choose(w, st, 0.99); got != P2P {
		t.Fatalf("normal edge: got %v, want p2p", got)
	}
}
