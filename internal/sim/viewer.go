package sim

import (
	"math"
	"time"

	"github.com/canopylive/canopy/internal/playrules"
)

// ref names a connected peer: a viewer slot (i >= 0, with the generation
// it had when connected) or a relay (i = -1 - relay index).
type ref struct {
	i   int32
	gen uint32
}

// flight is one download under way.
type flight struct {
	k     int32
	src   playrules.Choice
	x     uint32
	from  ref  // sender of a P2P download
	slot  int8 // sender's upload slot; -1: none taken (the request will time out)
	start int64
	end   int64
}

// viewer is one browser tab. A slot of sim.vs is reused by the viewer that
// replaces a leaving one; gen tells them apart. The fields a peer's look
// reads (sim.look: gen, alive, what is loaded, what is being fetched over
// HTTP) come first, in one cache line: a large run spends most of its time
// in these reads.
type viewer struct {
	gen     uint32
	alive   bool
	inSwarm bool
	direct  bool
	started bool
	rend    uint8 // rendition watched: index into sim.rends; its swarm is the only one it is in

	k0, next, known, contig int32  // start segment; segment at the playhead; newest seen; first not loaded
	mask                    uint64 // loaded segments from contig on (bit j: contig+j)
	nfl                     int8
	http                    int8 // HTTP downloads in flight
	p2p                     int8 // P2P downloads in flight
	nslots                  int8
	flk                     [playrules.HTTPSlots + playrules.P2PSlots]int32 // fl[i].k
	flHTTP                  uint8                                           // bit i: fl[i] is over HTTP

	uid     uint64
	up      float64
	down    float64
	notice  int64 // seal to seeing the segment in the playlist
	joinAt  int64
	firstAt int64
	leftAt  int64

	playClock int64 // when the playhead reaches the start of next

	page    int32 // page server: -1 the origin, else a relay
	timerAt int64
	stalls  int32
	stalled int64

	fl    [playrules.HTTPSlots + playrules.P2PSlots]flight
	slots [4]int64 // upload slots: when each is free again
	nbrs  []ref
}

func (v *viewer) has(k int32) bool {
	if k < v.k0 {
		return false
	}
	if k < v.contig {
		return true
	}
	d := k - v.contig
	return d < 64 && v.mask>>uint(d)&1 == 1
}

func (v *viewer) setLoaded(k int32) {
	d := k - v.contig
	if d < 0 || d >= 64 {
		return
	}
	v.mask |= 1 << uint(d)
	for v.mask&1 == 1 {
		v.mask >>= 1
		v.contig++
	}
}

func (v *viewer) flightFor(k int32) int {
	for i := range int(v.nfl) {
		if v.flk[i] == k {
			return i
		}
	}
	return -1
}

// httpLoading reports whether v is fetching k over HTTP.
func (v *viewer) httpLoading(k int32) bool {
	for i := range int(v.nfl) {
		if v.flk[i] == k {
			return v.flHTTP>>uint(i)&1 == 1
		}
	}
	return false
}

// addFlight records a download under way.
func (v *viewer) addFlight(f flight) {
	i := v.nfl
	v.fl[i], v.flk[i] = f, f.k
	v.flHTTP &^= 1 << uint(i)
	if f.src == playrules.HTTP {
		v.flHTTP |= 1 << uint(i)
		v.http++
	} else {
		v.p2p++
	}
	v.nfl++
}

func (v *viewer) flightByX(x uint32) int {
	for i := range int(v.nfl) {
		if v.fl[i].x == x {
			return i
		}
	}
	return -1
}

func (v *viewer) dropFlight(i int) {
	if v.fl[i].src == playrules.HTTP {
		v.http--
	} else {
		v.p2p--
	}
	v.nfl--
	last := v.nfl
	v.fl[i], v.flk[i] = v.fl[last], v.flk[last]
	v.flHTTP = v.flHTTP&^(1<<uint(i)) | (v.flHTTP>>uint(last)&1)<<uint(i)
	v.flHTTP &^= 1 << uint(last)
}

// ahead is how far the playhead is from the start of segment next: the
// time until it gets there (0 while stalled or before playback).
func (v *viewer) ahead(now int64) int64 {
	if !v.started {
		return 0
	}
	return max(0, v.playClock-now)
}

// peerView is what the viewer's connections say about one segment.
type peerView struct {
	peers, have, loading int
	relayAt              int64 // earliest time a connected relay will have it (0: none pending)
}

func (s *sim) look(v *viewer, k int32, now int64) peerView {
	var pv peerView
	seal := s.sealAt(k)
	for j := 0; j < len(v.nbrs); j++ {
		n := v.nbrs[j]
		if n.i < 0 {
			pv.peers++
			rl := &s.relays[-1-n.i]
			if rl.lag < 0 {
				continue
			}
			if at := seal + rl.lag; at <= now {
				pv.have++
			} else if pv.relayAt == 0 || at < pv.relayAt {
				pv.relayAt = at
			}
			continue
		}
		w := &s.vs[n.i]
		if !w.alive || w.gen != n.gen {
			v.nbrs[j] = v.nbrs[len(v.nbrs)-1] // gone: forget it
			v.nbrs = v.nbrs[:len(v.nbrs)-1]
			j--
			continue
		}
		pv.peers++
		if w.has(k) {
			pv.have++
		} else if w.httpLoading(k) {
			pv.loading++
		}
	}
	return pv
}

// evaluate runs the player's rules over the segments it knows and has not
// loaded, starts what they say, and arms a timer for the next moment the
// answer can change by itself (a window edge, a relay receiving one).
func (s *sim) evaluate(i int32, now int64) {
	v := &s.vs[i]
	if v.known < v.k0 {
		return
	}
	ahead := v.ahead(now)
	next := int64(math.MaxInt64)
	for k := v.next; k <= v.known; k++ {
		if v.has(k) {
			continue
		}
		startsIn := int64(k-v.next)*s.segNs + ahead
		if startsIn > int64(s.w.P2P) {
			if v.started {
				next = min(next, now+startsIn-int64(s.w.P2P))
			}
			break
		}
		f := v.flightFor(k)
		st := playrules.SegmentState{StartsIn: time.Duration(startsIn), InFlight: playrules.Wait,
			HTTPBusy: int(v.http), HTTPSlots: playrules.HTTPSlots, P2PBusy: int(v.p2p), P2PSlots: playrules.P2PSlots}
		if f >= 0 {
			st.InFlight = v.fl[f].src
		}
		pv := s.look(v, k, now)
		st.Peers, st.PeersHave, st.PeersLoading = pv.peers, pv.have, pv.loading
		switch playrules.Choose(s.w, st, s.seedDraw(v.uid, k)) {
		case playrules.HTTP:
			if f >= 0 {
				s.acc.req.P2PToHTTP++
				s.abort(v, f, now)
			}
			s.fetchHTTP(i, k, now)
			continue
		case playrules.P2P:
			s.fetchP2P(i, k, now)
		}
		if v.started && startsIn > int64(s.w.HighDemand) {
			next = min(next, now+startsIn-int64(s.w.HighDemand))
		}
		if pv.relayAt > now {
			next = min(next, pv.relayAt)
		}
	}
	if next != math.MaxInt64 && (v.timerAt <= now || next < v.timerAt) {
		v.timerAt = next
		s.schedule(next, evTimer, i, v.gen, 0, 0)
	}
}

// seedDraw is the viewer's random draw for seeding segment k over HTTP: a
// hash of seed, viewer and segment, so re-evaluating draws the same. With
// WhatIf.NoSeeding it is 1, which never seeds.
func (s *sim) seedDraw(uid uint64, k int32) float64 {
	if s.c.WhatIf.NoSeeding {
		return 1
	}
	x := s.c.Seed ^ uid*0x9e3779b97f4a7c15 ^ uint64(uint32(k))*0xbf58476d1ce4e5b9
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func (s *sim) newXfer() uint32 { s.xid++; return s.xid }

// fetchHTTP loads k from the page server: the origin (not capacity
// limited: its egress is what is measured) or a relay node, whose upload
// slots HTTP shares with its peer uploads, without a timeout.
func (s *sim) fetchHTTP(i int32, k int32, now int64) {
	v := &s.vs[i]
	x := s.newXfer()
	s.acc.req.HTTP++
	f := flight{k: k, src: playrules.HTTP, x: x, slot: -1, start: now, from: ref{i: -1 - max(v.page, 0)}}
	if v.page < 0 {
		f.end = now + s.rtt + secs(s.rends[v.rend].segBits/v.down)
	} else {
		slots, rate := s.senderSlots(f.from)
		best := earliest(slots)
		f.start = max(now+s.rtt/2, slots[best])
		f.end = f.start + secs(s.rends[v.rend].segBits/math.Min(rate, v.down)) + s.rtt/2
		f.slot = int8(best)
		slots[best] = f.end
	}
	end := f.end
	v.addFlight(f)
	s.schedule(end, evDone, i, v.gen, k, x)
}

// fetchP2P asks a random connected peer that has k. The sender serves its
// upload slots first come, first served; a request that would wait longer
// than the player's no-bytes timeout fails when it fires.
func (s *sim) fetchP2P(i int32, k int32, now int64) {
	v := &s.vs[i]
	var cands [16]ref
	n := 0
	seen := 0
	for _, nb := range v.nbrs {
		if !s.peerHas(nb, k, now) {
			continue
		}
		seen++
		if n < len(cands) {
			cands[n] = nb
			n++
		} else if j := s.r.IntN(seen); j < len(cands) { // reservoir sample
			cands[j] = nb
		}
	}
	if n == 0 {
		return
	}
	from := cands[s.r.IntN(n)]
	slots, rate := s.senderSlots(from)
	best := earliest(slots)
	x := s.newXfer()
	start := max(now+s.rtt/2, slots[best])
	f := flight{k: k, src: playrules.P2P, x: x, from: from, slot: -1, start: start}
	s.acc.req.P2P++
	if start-now > int64(playrules.PeerTimeout) {
		s.acc.req.P2PTimeouts++
		s.schedule(now+int64(playrules.PeerTimeout), evFail, i, v.gen, k, x)
	} else {
		f.slot = int8(best)
		f.end = start + secs(s.rends[v.rend].segBits/math.Min(rate, v.down)) + s.rtt/2
		slots[best] = f.end
		s.schedule(f.end, evDone, i, v.gen, k, x)
	}
	v.addFlight(f)
}

func earliest(slots []int64) int {
	best := 0
	for j := 1; j < len(slots); j++ {
		if slots[j] < slots[best] {
			best = j
		}
	}
	return best
}

func (s *sim) peerHas(n ref, k int32, now int64) bool {
	if n.i < 0 {
		rl := &s.relays[-1-n.i]
		return rl.lag >= 0 && s.sealAt(k)+rl.lag <= now
	}
	w := &s.vs[n.i]
	return w.alive && w.gen == n.gen && w.has(k)
}

// senderSlots returns a sender's upload slots and the rate of each.
func (s *sim) senderSlots(n ref) ([]int64, float64) {
	if n.i < 0 {
		rl := &s.relays[-1-n.i]
		return rl.slots, rl.serveUp / float64(len(rl.slots))
	}
	w := &s.vs[n.i]
	return w.slots[:w.nslots], w.up / float64(w.nslots)
}

// abort cancels download f; a sender that was still sending it gets the
// rest of its slot back when nothing was queued behind.
func (s *sim) abort(v *viewer, f int, now int64) {
	fl := v.fl[f]
	if fl.src == playrules.P2P && fl.slot >= 0 {
		if n := fl.from; n.i < 0 || (s.vs[n.i].alive && s.vs[n.i].gen == n.gen) {
			slots, _ := s.senderSlots(n)
			if slots[fl.slot] == fl.end {
				slots[fl.slot] = max(now, fl.start)
			}
		}
	}
	v.dropFlight(f)
}

// done ends a download: the segment is loaded (unless its peer left), the
// playhead moves, and the viewer's peers hear about it.
func (s *sim) done(i int32, k int32, x uint32, now int64) {
	v := &s.vs[i]
	f := v.flightByX(x)
	if f < 0 {
		return
	}
	fl := v.fl[f]
	v.dropFlight(f)
	if fl.src == playrules.P2P && fl.from.i >= 0 {
		w := &s.vs[fl.from.i]
		if !w.alive || w.gen != fl.from.gen {
			s.acc.req.P2PLost++
			s.evaluate(i, now) // the sender left mid-transfer
			return
		}
	}
	if v.has(k) {
		s.evaluate(i, now)
		return
	}
	v.setLoaded(k)
	switch {
	case fl.src == playrules.HTTP && v.page < 0:
		s.acc.got(s, v.rend, srcHTTP, now)
	case fl.src == playrules.HTTP:
		s.acc.got(s, v.rend, srcRelayHTTP, now)
	case fl.from.i < 0:
		s.acc.got(s, v.rend, srcRelay, now)
	default:
		s.acc.got(s, v.rend, srcPeer, now)
	}
	s.advance(v, now)
	for _, n := range v.nbrs {
		if n.i < 0 {
			continue
		}
		w := &s.vs[n.i]
		if w.alive && w.gen == n.gen && w.known >= k && !w.has(k) && w.flightFor(k) < 0 {
			s.evaluate(n.i, now)
		}
	}
	s.evaluate(i, now)
}

// advance plays through the loaded segments: a segment that arrives after
// the playhead reached it ends a stall.
func (s *sim) advance(v *viewer, now int64) {
	for v.next < v.contig {
		switch {
		case !v.started:
			v.started = true
			v.firstAt = now
			v.playClock = now
			s.acc.firstSegment(s, v, now)
		case now > v.playClock:
			v.stalls++
			v.stalled += now - v.playClock
			v.playClock = now
		}
		v.playClock += s.segNs
		v.next++
	}
}
