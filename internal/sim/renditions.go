package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Rendition is one rung of the audience mix: viewers of it watch Rate
// (video + audio, bits/s) and share P2P only with each other (p2p-media-
// loader keeps one swarm per rendition: one info hash each).
type Rendition struct {
	Name   string
	Rate   float64
	Weight float64 // share of viewers, normalized to sum to 1
}

// ParseRenditions reads an audience mix such as "720p=0.6,480p=0.3,144p=0.1":
// rungs of the default ladder with relative weights (normalized to sum to
// 1, so "720p=6,480p=3,144p=1" is the same mix). Each rung at most once.
func ParseRenditions(spec string) ([]Rendition, error) {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("%w: renditions %q: "+f, append([]any{ErrConfig, spec}, a...)...)
	}
	if strings.TrimSpace(spec) == "" {
		return nil, bad("empty")
	}
	var out []Rendition
	var sum float64
	for part := range strings.SplitSeq(spec, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, bad("%q: want NAME=WEIGHT", part)
		}
		rate, err := RenditionRate(name)
		if err != nil {
			return nil, fmt.Errorf("renditions: %w", err)
		}
		weight, err := strconv.ParseFloat(w, 64)
		if err != nil || !(weight > 0) || math.IsInf(weight, 0) {
			return nil, bad("weight %q of %s: want a positive number", w, name)
		}
		for _, r := range out {
			if r.Name == name {
				return nil, bad("%s twice", name)
			}
		}
		out = append(out, Rendition{Name: name, Rate: rate, Weight: weight})
		sum += weight
	}
	for i := range out {
		out[i].Weight /= sum
	}
	return out, nil
}

// MixString writes a mix back in ParseRenditions' form.
func MixString(rs []Rendition) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Name + "=" + strconv.FormatFloat(r.Weight, 'g', 4, 64)
	}
	return strings.Join(parts, ",")
}

// swarmLoad is what one rendition's swarm needs and offers at an instant,
// for the bound.
type swarmLoad struct {
	rate     float64 // r_i
	n        int     // N_i: receivers (online viewers of the rendition + attached relays, which hold every rendition)
	viewerUp float64 // Σ upload of the rendition's viewers that can connect directly: it serves only this swarm
}

// aggregateBound is Kumar-Liu-Ross applied to the whole audience as if it
// were one swarm: max(Σ r_i, Σ N_i·r_i − Σu), Σu = relayUp + every
// viewer's upload. It is a lower bound on origin upload but a loose one
// with several renditions: it lets a viewer's upload serve swarms it is
// not in. With one rendition it is max(r, N·r − Σu), the single-stream
// bound.
func aggregateBound(ls []swarmLoad, relayUp, viewerUp float64) float64 {
	var rates, need float64
	n := 0
	for _, l := range ls {
		if l.n == 0 {
			continue
		}
		rates += l.rate
		need += float64(l.n) * l.rate
		n++
	}
	if n == 0 {
		return 0
	}
	return math.Max(rates, need-(relayUp+viewerUp))
}

// swarmBound is the least origin upload that serves every swarm: origin
// sends s_i of rendition i, viewers of i upload only within swarm i, and
// relays split their upload relayUp over the swarms as they like (A_i ≥
// 0, Σ A_i ≤ relayUp). Swarm i needs s_i ≥ r_i (nobody else has its data
// first) and s_i + U_i + A_i ≥ N_i·r_i (every receiver gets r_i, every bit
// received was sent once). The least Σ s_i over every split is
//
//	max(Σ r_i, Σ max(r_i, N_i·r_i − U_i) − relayUp)
//
// (relay upload removes excess above r_i one for one until it runs out).
// It is never below aggregateBound and equals it with one rendition.
// Renditions nobody receives are left out.
func swarmBound(ls []swarmLoad, relayUp float64) float64 {
	var rates, need float64
	n := 0
	for _, l := range ls {
		if l.n == 0 {
			continue
		}
		rates += l.rate
		need += math.Max(l.rate, float64(l.n)*l.rate-l.viewerUp)
		n++
	}
	if n == 0 {
		return 0
	}
	return math.Max(rates, need-relayUp)
}
