package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/canopylive/canopy/internal/playrules"
)

// sim is one run's state. It is used by one goroutine only.
type sim struct {
	c      Config
	r      *rand.Rand
	q      queue
	w      playrules.Windows
	rends  []rend  // the audience mix (one entry without -renditions)
	unit   float64 // segment bits of rends[0]: shares weigh segments in these units
	segNs  int64
	rtt    int64
	first  int64 // first join: times in results count from here
	end    int64
	warm   int64
	sync   int32 // target latency in segments
	relays []relay
	vs     []viewer
	uid    uint64
	xid    uint32
	acc    accum
}

// Run simulates c and returns its metrics. Runs are reproducible: the same
// Config (seed included) gives the same Result. ctx cancels a long run.
func Run(ctx context.Context, c Config) (*Result, error) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	w, sync := c.windows()
	s := &sim{
		c:     c,
		r:     rand.New(rand.NewPCG(c.Seed, 0x63616e6f7079)), // "canopy"
		w:     w,
		segNs: int64(c.Segment),
		rtt:   int64(c.RTT),
		first: int64(c.firstJoin()),
		end:   int64(c.firstJoin() + c.Duration),
		warm:  int64(c.firstJoin() + c.Warmup),
		sync:  int32(sync),
	}
	var cum float64
	for _, m := range c.mix() {
		cum += m.Weight
		s.rends = append(s.rends, rend{Rendition: m, segBits: m.Rate * c.Segment.Seconds(), cum: cum})
	}
	s.unit = s.rends[0].segBits
	var err error
	if s.relays, err = buildTree(c, s.r); err != nil {
		return nil, err
	}
	s.acc.init(s)
	s.vs = make([]viewer, c.Viewers)
	first := s.first
	for i := range s.vs {
		s.vs[i].nbrs = make([]ref, 0, 8)
		at := first + int64(s.r.Float64()*float64(c.JoinOver))
		s.q.push(event{at: at, kind: evJoin, v: int32(i)})
	}
	for i := range s.relays {
		at := first + int64(s.r.Float64()*float64(c.AnnounceInterval))
		s.q.push(event{at: at, kind: evRelayAnnounce, v: int32(i)})
	}
	s.q.push(event{at: s.sealAt(0), kind: evSeal, k: 0})
	s.q.push(event{at: first + int64(c.Bucket), kind: evSample})
	for n := 0; s.q.len() > 0; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("sim: %w", err)
			}
		}
		e := s.q.pop()
		if e.at > s.end {
			break
		}
		s.handle(e)
	}
	return s.result(), nil
}

// rend is one rendition of the mix as the run uses it.
type rend struct {
	Rendition
	segBits float64 // bits per segment: r_i × D
	cum     float64 // Σ weights up to this one
}

// weight is how many units (segments of rends[0]) a segment of rendition
// i is: exactly 1 for rends[0], so a one-rendition run counts segments.
func (s *sim) weight(i uint8) float64 { return s.rends[i].segBits / s.unit }

// drawRendition picks a joining viewer's rendition; without a mix it draws
// nothing (runs stay as they were before mixes existed).
func (s *sim) drawRendition() uint8 {
	if len(s.rends) == 1 {
		return 0
	}
	u := s.r.Float64()
	for i, r := range s.rends {
		if u < r.cum {
			return uint8(i)
		}
	}
	return uint8(len(s.rends) - 1)
}

// treeBits is what one segment time of the tree carries (all renditions).
func (s *sim) treeBits() float64 { return s.c.TreeRate * s.c.Segment.Seconds() }

// sealAt is when segment k (media [kD, (k+1)D)) is sealed at the origin.
func (s *sim) sealAt(k int32) int64 { return int64(k+1)*s.segNs + int64(s.c.SealDelay) }

// newest is the newest segment sealed at t (-1: none).
func (s *sim) newest(t int64) int32 {
	return int32((t-int64(s.c.SealDelay))/s.segNs) - 1
}

func (s *sim) schedule(at int64, kd kind, v int32, gen uint32, k int32, x uint32) {
	if at <= s.end {
		s.q.push(event{at: at, kind: kd, v: v, gen: gen, k: k, x: x})
	}
}

func (s *sim) handle(e event) {
	now := e.at
	switch e.kind {
	case evSeal:
		s.acc.originPush(s, now)
		s.schedule(s.sealAt(e.k+1), evSeal, 0, 0, e.k+1, 0)
		return
	case evSample:
		s.acc.sample(s, now)
		s.schedule(now+int64(s.c.Bucket), evSample, 0, 0, 0, 0)
		return
	case evJoin:
		s.spawn(e.v, now)
		return
	case evRelayAnnounce:
		s.relayAnnounce(e.v, now)
		s.schedule(now+int64(s.c.AnnounceInterval), evRelayAnnounce, e.v, 0, 0, 0)
		return
	}
	v := &s.vs[e.v]
	if !v.alive || v.gen != e.gen {
		return // for a viewer that has left
	}
	switch e.kind {
	case evStart:
		s.start(e.v, now)
	case evAnnounce:
		s.announce(e.v, now)
		s.schedule(now+int64(s.c.AnnounceInterval), evAnnounce, e.v, v.gen, 0, 0)
		s.evaluate(e.v, now)
	case evNotice:
		v.known = e.k
		s.schedule(s.sealAt(e.k+1)+v.notice, evNotice, e.v, v.gen, e.k+1, 0)
		s.evaluate(e.v, now)
	case evTimer:
		if v.timerAt == now {
			v.timerAt = 0
			s.evaluate(e.v, now)
		}
	case evDone:
		s.done(e.v, e.k, e.x, now)
	case evFail:
		if i := v.flightByX(e.x); i >= 0 {
			v.dropFlight(i)
			s.evaluate(e.v, now)
		}
	case evLeave:
		s.leave(e.v, now)
		s.spawn(e.v, now)
	}
}

// spawn makes slot i a newly joined viewer at now.
func (s *sim) spawn(i int32, now int64) {
	v := &s.vs[i]
	s.uid++
	gen := v.gen + 1
	nbrs := v.nbrs[:0]
	*v = viewer{uid: s.uid, gen: gen, alive: true, joinAt: now, known: -1, nbrs: nbrs, page: s.pageFor(s.uid)}
	v.rend = s.drawRendition()
	v.up = s.c.ViewerUpload.Sample(s.r)
	v.down = s.c.ViewerDownload.Sample(s.r)
	v.direct = s.r.Float64() < s.c.Direct
	v.notice = int64(s.r.Float64()*float64(s.segNs)) + s.rtt
	if v.page >= 0 {
		v.notice += s.relays[v.page].lag // a relay lists what it has
	}
	v.nslots = int8(slotsFor(v.up, s.rends[v.rend].Rate, len(v.slots)))
	s.acc.join(s, v)
	s.schedule(now+s.rtt, evStart, i, gen, 0, 0)
	s.schedule(now+int64(s.c.PeerSetup), evAnnounce, i, gen, 0, 0)
	if s.c.ChurnPerMin > 0 {
		life := s.r.ExpFloat64() / s.c.ChurnPerMin * float64(time.Minute)
		if life < float64(s.end-now) {
			s.schedule(now+int64(math.Max(1, life)), evLeave, i, gen, 0, 0)
		}
	}
}

// pageFor assigns page servers round-robin, as loadgen does: -1 is the
// origin, else a relay index. A detached relay has nothing to serve, so its
// players are counted on the origin.
func (s *sim) pageFor(uid uint64) int32 {
	var p int32 = -1
	switch s.c.Pages {
	case PagesRelays:
		p = int32(uid % uint64(len(s.relays)))
	case PagesAll:
		p = int32(uid%uint64(len(s.relays)+1)) - 1
	}
	if p >= 0 && s.relays[p].lag < 0 {
		p = -1
	}
	return p
}

// start: the viewer has the media playlist and starts a target latency
// behind its live edge (hls.js liveSyncDurationCount).
func (s *sim) start(i int32, now int64) {
	v := &s.vs[i]
	n := s.newest(now)
	if v.page >= 0 {
		n = s.newest(now - s.relays[v.page].lag)
	}
	v.k0 = max(0, n+1-s.sync)
	v.next, v.contig, v.known = v.k0, v.k0, n
	v.playClock = now
	s.schedule(s.sealAt(n+1)+v.notice, evNotice, i, v.gen, n+1, 0)
	s.evaluate(i, now)
}

// leave records the viewer's playback and drops its relay connections.
func (s *sim) leave(i int32, now int64) {
	v := &s.vs[i]
	s.acc.leave(s, v, now)
	for _, n := range v.nbrs {
		if n.i < 0 {
			s.relays[-1-n.i].browsers--
		}
	}
	v.alive = false
	v.leftAt = now
}

func (s *sim) result() *Result {
	for i := range s.vs {
		if v := &s.vs[i]; v.alive {
			s.acc.leave(s, v, s.end)
		}
	}
	return s.acc.result(s)
}
