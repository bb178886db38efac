package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestParseRenditions(t *testing.T) {
	r720, _ := RenditionRate("720p")
	r480, _ := RenditionRate("480p")
	r144, _ := RenditionRate("144p")
	tests := []struct {
		spec string
		want []Rendition
	}{
		{"720p=0.6,480p=0.3,144p=0.1", []Rendition{{"720p", r720, 0.6}, {"480p", r480, 0.3}, {"144p", r144, 0.1}}},
		{"720p=6, 480p=3, 144p=1", []Rendition{{"720p", r720, 0.6}, {"480p", r480, 0.3}, {"144p", r144, 0.1}}},
		{"480p=1", []Rendition{{"480p", r480, 1}}},
		{"144p=2,720p=2", []Rendition{{"144p", r144, 0.5}, {"720p", r720, 0.5}}},
		{"", nil},
		{"720p", nil},
		{"720p=0", nil},
		{"720p=-1,480p=2", nil},
		{"720p=x", nil},
		{"4k=1", nil},
		{"720p=1,720p=1", nil},
		{"720p=Inf", nil},
	}
	for _, tt := range tests {
		got, err := ParseRenditions(tt.spec)
		if tt.want == nil {
			if !errors.Is(err, ErrConfig) {
				t.Errorf("%q: err %v, want ErrConfig", tt.spec, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.spec, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q: %+v, want %+v", tt.spec, got, tt.want)
			continue
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			if g.Name != w.Name || g.Rate != w.Rate || math.Abs(g.Weight-w.Weight) > 1e-12 {
				t.Errorf("%q[%d]: %+v, want %+v", tt.spec, i, g, w)
			}
		}
		if back, err := ParseRenditions(MixString(got)); err != nil || len(back) != len(got) {
			t.Errorf("%q: MixString %q does not parse back: %v", tt.spec, MixString(got), err)
		}
	}
}

// TestBoundOneRendition: with one rendition both multi-rendition forms are
// the single-stream bound max(r, N·r − Σu).
func TestBoundOneRendition(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 10000 {
		rate := 1e5 + r.Float64()*5e6
		n := r.IntN(2000)
		vu, ru := r.Float64()*float64(n)*rate*2, r.Float64()*float64(n)*rate
		if r.IntN(4) == 0 {
			ru = 0
		}
		want := 0.0
		if n > 0 {
			want = math.Max(rate, float64(n)*rate-(ru+vu))
		}
		ls := []swarmLoad{{rate: rate, n: n, viewerUp: vu}}
		for name, got := range map[string]float64{"swarm": swarmBound(ls, ru), "aggregate": aggregateBound(ls, ru, vu)} {
			if math.Abs(got-want) > 1e-9*math.Max(1, want) {
				t.Fatalf("%s: rate %v n %d viewer up %v relay up %v: %v, want %v", name, rate, n, vu, ru, got, want)
			}
		}
	}
}

// TestSwarmBoundIsTheLeastOverRelaySplits: swarmBound equals the least
// origin upload over every way relays split their upload among the swarms
// (brute force over integer splits, where the closed form is exact), and
// is never below the aggregate bound nor the form that gives every swarm
// all the relays' upload (both valid, looser).
func TestSwarmBoundIsTheLeastOverRelaySplits(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 300 {
		ls := make([]swarmLoad, 2+r.IntN(2))
		var vu float64
		for i := range ls {
			ls[i] = swarmLoad{rate: float64(1 + r.IntN(5)), n: r.IntN(8), viewerUp: float64(r.IntN(30))}
			vu += ls[i].viewerUp
		}
		ru := r.IntN(25)
		best := math.Inf(1)
		var split func(i, left int, a []int)
		split = func(i, left int, a []int) {
			if i == len(ls) {
				var s float64
				for j, l := range ls {
					if l.n > 0 {
						s += math.Max(l.rate, float64(l.n)*l.rate-l.viewerUp-float64(a[j]))
					}
				}
				best = math.Min(best, s)
				return
			}
			for x := 0; x <= left; x++ {
				split(i+1, left-x, append(a, x))
			}
		}
		split(0, ru, nil)
		got := swarmBound(ls, float64(ru))
		if any := anyReceiver(ls); !any {
			best = 0
		}
		if got != best {
			t.Fatalf("%+v, relays %d: swarm bound %v, least over splits %v", ls, ru, got, best)
		}
		if agg := aggregateBound(ls, float64(ru), vu); agg > got {
			t.Fatalf("%+v, relays %d: aggregate %v above the swarm bound %v", ls, ru, agg, got)
		}
		var doubled float64
		for _, l := range ls {
			if l.n > 0 {
				doubled += math.Max(l.rate, float64(l.n)*l.rate-l.viewerUp-float64(ru))
			}
		}
		if doubled > got {
			t.Fatalf("%+v, relays %d: relays counted in every swarm %v above the swarm bound %v", ls, ru, doubled, got)
		}
	}
}

// TestSwarmBoundAboveAggregate: a swarm with spare viewer upload cannot
// lend it to another swarm, so the per-swarm bound can be well above the
// aggregate one: 720p-like swarm (rate 3, 4 viewers, no upload) and a
// 144p-like one (rate 1, 4 viewers, 10 of upload), no relays.
func TestSwarmBoundAboveAggregate(t *testing.T) {
	ls := []swarmLoad{{rate: 3, n: 4}, {rate: 1, n: 4, viewerUp: 10}}
	if got, agg := swarmBound(ls, 0), aggregateBound(ls, 0, 10); got != 13 || agg != 6 {
		t.Fatalf("swarm bound %v (want 12 + 1), aggregate %v (want 16 − 10)", got, agg)
	}
	// Relay upload goes where it is short: 5 of it takes 5 off.
	if got := swarmBound(ls, 5); got != 8 {
		t.Fatalf("with relays: %v, want 8", got)
	}
}

func anyReceiver(ls []swarmLoad) bool {
	for _, l := range ls {
		if l.n > 0 {
			return true
		}
	}
	return false
}
