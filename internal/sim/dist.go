package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/canopylive/canopy/transcode"
)

// ErrDist is returned for a distribution spec that does not parse.
var ErrDist = errors.New("sim: bad distribution")

// Dist is a distribution of link rates in bits/s. Specs (see ParseDist):
//
//	10M                      fixed 10 Mbit/s (also "fixed:10M")
//	uniform:1M-20M           uniform between the two
//	lognormal:8M,0.9         lognormal with that median and sigma (ln units)
//	mix:1M@20,5M@30,20M@50   these rates with these weights
//	home                     an assumed home-broadband upload mix (HomeUpload)
type Dist struct {
	spec   string
	kind   string
	a, b   float64
	points []point
}

type point struct{ v, w float64 }

// HomeUpload is the "home" mix: an assumption, not a measurement, meant to
// be pessimistic about what a browser tab can upload on a home link
// (mobile and ADSL at the bottom, DOCSIS in the middle, fibre at the top;
// the share of fibre in particular varies a lot between countries):
// 25% at 1 Mbit/s, 30% at 5, 30% at 20, 15% at 100. Mean 25.6 Mbit/s.
const HomeUpload = "mix:1M@25,5M@30,20M@30,100M@15"

// ParseDist reads a distribution spec.
func ParseDist(spec string) (Dist, error) {
	s := strings.TrimSpace(spec)
	if s == "home" {
		d, err := ParseDist(HomeUpload)
		d.spec = "home"
		return d, err
	}
	kind, arg, ok := strings.Cut(s, ":")
	if !ok {
		kind, arg = "fixed", s
	}
	d := Dist{spec: spec, kind: kind}
	bad := func(why string) (Dist, error) { return Dist{}, fmt.Errorf("%w %q: %s", ErrDist, spec, why) }
	switch kind {
	case "fixed":
		v, err := ParseRate(arg)
		if err != nil {
			return bad(err.Error())
		}
		d.a = v
	case "uniform":
		lo, hi, ok := strings.Cut(arg, "-")
		if !ok {
			return bad("want uniform:LOW-HIGH")
		}
		a, err1 := ParseRate(lo)
		b, err2 := ParseRate(hi)
		if err1 != nil || err2 != nil || b < a {
			return bad("want uniform:LOW-HIGH with LOW <= HIGH")
		}
		d.a, d.b = a, b
	case "lognormal":
		med, sig, ok := strings.Cut(arg, ",")
		if !ok {
			return bad("want lognormal:MEDIAN,SIGMA")
		}
		a, err1 := ParseRate(med)
		b, err2 := strconv.ParseFloat(sig, 64)
		if err1 != nil || err2 != nil || b < 0 || b > 5 {
			return bad("want lognormal:MEDIAN,SIGMA with 0 <= SIGMA <= 5")
		}
		d.a, d.b = a, b
	case "mix":
		var total float64
		for _, part := range strings.Split(arg, ",") {
			rv, wv, ok := strings.Cut(part, "@")
			if !ok {
				return bad("want mix:RATE@WEIGHT,...")
			}
			v, err1 := ParseRate(rv)
			w, err2 := strconv.ParseFloat(wv, 64)
			if err1 != nil || err2 != nil || w <= 0 || math.IsInf(w, 0) {
				return bad("want mix:RATE@WEIGHT,... with positive weights")
			}
			d.points = append(d.points, point{v, w})
			total += w
		}
		for i := range d.points {
			d.points[i].w /= total
		}
	default:
		return bad("unknown kind " + kind)
	}
	return d, nil
}

// ParseRate reads a rate in bits/s with an optional k, M or G suffix
// (powers of 1000): "2.5M" is 2,500,000. It must be positive and finite.
func ParseRate(s string) (float64, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1e9, s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: rate %q", ErrDist, s)
	}
	return v * mult, nil
}

// String returns the spec the distribution was parsed from.
func (d Dist) String() string { return d.spec }

// IsZero reports whether d was never parsed.
func (d Dist) IsZero() bool { return d.kind == "" }

// Sample draws one rate.
func (d Dist) Sample(r *rand.Rand) float64 {
	switch d.kind {
	case "uniform":
		return d.a + r.Float64()*(d.b-d.a)
	case "lognormal":
		return d.a * math.Exp(d.b*r.NormFloat64())
	case "mix":
		u := r.Float64()
		for _, p := range d.points {
			if u < p.w {
				return p.v
			}
			u -= p.w
		}
		return d.points[len(d.points)-1].v
	default:
		return d.a
	}
}

// Mean is the distribution's mean rate.
func (d Dist) Mean() float64 {
	switch d.kind {
	case "uniform":
		return (d.a + d.b) / 2
	case "lognormal":
		return d.a * math.Exp(d.b*d.b/2)
	case "mix":
		var m float64
		for _, p := range d.points {
			m += p.v * p.w
		}
		return m
	default:
		return d.a
	}
}

// AudioBitrate is what the AAC audio adds to every rung (the ladder's
// comment says 64-160 kb/s; the middle is assumed).
const AudioBitrate = 128_000

// TreeRateFor returns what the relay tree carries when viewers watch a
// rung of rate: that rung and every lower rung of the default ladder
// (the ladder never upscales, so a source of the watched rung's height
// has no higher rungs), audio included. A rate that is no rung of the
// ladder is taken as the only rendition.
func TreeRateFor(rate float64) float64 {
	ladder := transcode.DefaultLadder()
	for i, r := range ladder {
		if float64(r.VideoBitrate+AudioBitrate) != rate {
			continue
		}
		var sum float64
		for _, lower := range ladder[i:] {
			sum += float64(lower.VideoBitrate + AudioBitrate)
		}
		return sum
	}
	return rate
}

// RenditionRate returns the stream rate (video + audio, bits/s) of a rung
// of the default ladder (transcode.DefaultLadder).
func RenditionRate(name string) (float64, error) {
	var names []string
	for _, r := range transcode.DefaultLadder() {
		if r.Name == name {
			return float64(r.VideoBitrate + AudioBitrate), nil
		}
		names = append(names, r.Name)
	}
	return 0, fmt.Errorf("%w: unknown rendition %q (have %s)", ErrConfig, name, strings.Join(names, ", "))
}
