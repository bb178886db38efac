package sim

import (
	"math"
	"time"
)

type source int

const (
	srcHTTP source = iota
	srcRelayHTTP
	srcRelay
	srcPeer
	nSrc
)

// hist is a histogram of durations in 10 ms bins; the last bin holds
// everything longer.
type hist struct{ bins []int64 }

const histBin = int64(10 * time.Millisecond)

func newHist(limit time.Duration) hist { return hist{bins: make([]int64, int64(limit)/histBin+1)} }

func (h *hist) add(d int64) {
	b := max(0, d/histBin)
	h.bins[min(b, int64(len(h.bins)-1))]++
}

func (h *hist) count() int64 {
	var n int64
	for _, c := range h.bins {
		n += c
	}
	return n
}

// quantile returns the q-quantile in seconds (the upper edge of its bin).
func (h *hist) quantile(q float64) float64 {
	n := h.count()
	if n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i, c := range h.bins {
		seen += c
		if seen >= max(1, want) {
			return float64(int64(i+1)*histBin) / 1e9
		}
	}
	return float64(int64(len(h.bins))*histBin) / 1e9
}

// win accumulates one measurement window (the whole run, or steady state).
// Counts are per rendition of the mix (index: sim.rends).
type win struct {
	segs     [][nSrc]int64 // segments delivered to viewers, by rendition and source
	pushes   int64         // segments the origin pushed to first-level relays
	boundSum float64       // Σ bound (bits/s) over samples
	aggSum   float64       // Σ aggregate bound over samples
	samples  int64
	watch    []int64 // ns of playback (started viewers), by rendition
	stalled  []int64 // ns stalled, by rendition
	stalls   int64
	latency  hist
}

func newWin(rends int) win {
	return win{segs: make([][nSrc]int64, rends), watch: make([]int64, rends), stalled: make([]int64, rends),
		latency: newHist(2 * time.Minute)}
}

// bucket is one time-series point.
type bucket struct {
	segs   [][nSrc]int64 // by rendition and source
	pushes int64
	bound  float64
}

type accum struct {
	run, steady win
	buckets     []bucket
	ttfs        hist
	rootKids    int64
	attached    int
	relayUp     float64 // Σ upload of attached relays
	online      int
	directUp    float64 // Σ upload of online viewers that can connect directly
	joined      int64
	direct      int64
	started     int64
	peakOnline  int
	req         Requests
	// By rendition, for the per-swarm bound and the per-rendition results.
	onlineR   []int
	directUpR []float64
	joinedR   []int64
	loads     []swarmLoad // scratch for bound
}

// Requests counts the downloads viewers started and how peer ones ended.
type Requests struct {
	HTTP        int64 // HTTP downloads started
	P2P         int64 // peer downloads asked for
	P2PTimeouts int64 // asked of a peer too busy to start within the no-bytes timeout
	P2PToHTTP   int64 // switched to HTTP when the segment became urgent
	P2PLost     int64 // the sending viewer left
}

func (a *accum) init(s *sim) {
	nr := len(s.rends)
	a.run, a.steady = newWin(nr), newWin(nr)
	a.ttfs = newHist(time.Minute)
	a.buckets = make([]bucket, int(s.end/int64(s.c.Bucket))+1)
	for i := range a.buckets {
		a.buckets[i].segs = make([][nSrc]int64, nr)
	}
	a.onlineR, a.directUpR, a.joinedR = make([]int, nr), make([]float64, nr), make([]int64, nr)
	a.loads = make([]swarmLoad, nr)
	for _, rl := range s.relays {
		if rl.lag >= 0 {
			a.attached++
			a.relayUp += rl.up
			if rl.depth == 1 {
				a.rootKids++
			}
		}
	}
}

func (a *accum) bucketAt(s *sim, now int64) *bucket {
	return &a.buckets[min(int(now/int64(s.c.Bucket)), len(a.buckets)-1)]
}

func (a *accum) originPush(s *sim, now int64) {
	a.run.pushes += a.rootKids
	if now >= s.warm {
		a.steady.pushes += a.rootKids
	}
	a.bucketAt(s, now).pushes += a.rootKids
}

func (a *accum) got(s *sim, rd uint8, src source, now int64) {
	a.run.segs[rd][src]++
	if now >= s.warm {
		a.steady.segs[rd][src]++
	}
	a.bucketAt(s, now).segs[rd][src]++
}

func (a *accum) join(s *sim, v *viewer) {
	a.joined++
	a.online++
	a.joinedR[v.rend]++
	a.onlineR[v.rend]++
	a.peakOnline = max(a.peakOnline, a.online)
	if v.direct {
		a.direct++
		a.directUp += v.up
		a.directUpR[v.rend] += v.up
	}
}

func (a *accum) firstSegment(s *sim, v *viewer, now int64) {
	a.started++
	a.ttfs.add(now - v.joinAt)
}

// leave closes a viewer's books at now (its departure or the run's end);
// a stall still going on counts up to now.
func (a *accum) leave(s *sim, v *viewer, now int64) {
	a.online--
	a.onlineR[v.rend]--
	if v.direct {
		a.directUp -= v.up
		a.directUpR[v.rend] -= v.up
	}
	if !v.started {
		return
	}
	stalled, stalls := v.stalled, int64(v.stalls)
	if now > v.playClock {
		stalled += now - v.playClock
		stalls++
	}
	a.run.watch[v.rend] += now - v.firstAt
	a.run.stalled[v.rend] += stalled
	a.run.stalls += stalls
	if now > s.warm {
		// Stalls are not time-stamped per viewer; the steady window takes
		// the share of them that its share of the watch time implies.
		w := now - max(v.firstAt, s.warm)
		frac := float64(w) / float64(max(1, now-v.firstAt))
		a.steady.watch[v.rend] += w
		a.steady.stalled[v.rend] += int64(float64(stalled) * frac)
		a.steady.stalls += int64(math.Round(float64(stalls) * frac))
	}
}

// bounds returns the Kumar-Liu-Ross bound on origin upload now: with one
// rendition max(r, N·r − Σu), N every receiver (online viewers plus
// attached relays) and Σu the upload that can serve someone (attached
// relays' and direct-capable viewers'); with a mix, swarmBound (the
// bound) and aggregateBound (looser: viewers' upload counted across
// swarms). See renditions.go.
func (a *accum) bounds(s *sim) (bound, agg float64) {
	if len(s.rends) == 1 {
		r := s.rends[0].Rate
		n := float64(a.online + a.attached)
		b := math.Max(r, n*r-(a.relayUp+a.directUp))
		return b, b
	}
	for i, rd := range s.rends {
		a.loads[i] = swarmLoad{rate: rd.Rate, n: a.onlineR[i] + a.attached, viewerUp: a.directUpR[i]}
	}
	return swarmBound(a.loads, a.relayUp), aggregateBound(a.loads, a.relayUp, a.directUp)
}

func (a *accum) sample(s *sim, now int64) {
	b, agg := a.bounds(s)
	a.bucketAt(s, now-1).bound = b
	a.run.boundSum += b
	a.run.aggSum += agg
	a.run.samples++
	if now > s.warm {
		a.steady.boundSum += b
		a.steady.aggSum += agg
		a.steady.samples++
	}
	for i := range s.vs {
		v := &s.vs[i]
		if !v.alive || !v.started {
			continue
		}
		lat := now - (int64(v.next)*s.segNs - v.ahead(now))
		a.run.latency.add(lat)
		if now > s.warm {
			a.steady.latency.add(lat)
		}
	}
}
