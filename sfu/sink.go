package sfu

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// maxSegments is how many rewrite segments a viewer remembers for mapping
// NACKed sequence numbers back upstream. A segment starts at each resync
// (first keyframe, after a full queue, after a switch), so a handful spans
// far more than the ring.
const maxSegments = 8

// segment is a run of a viewer's outgoing packets with one rewrite:
// out = upstream + offset (sequence number and timestamp, mod 2^16/2^32).
type segment struct {
	t        *Track // the Track (layer) whose ring the segment maps into
	outStart uint16 // first outgoing sequence number
	upStart  uint64 // extended upstream sequence number sent as outStart
	seqOff   uint16
	tsOff    uint32
	gen      uint32 // upstream generation the segment maps into
}

// outPacket is one queued write: a shared packet with this viewer's
// sequence number and timestamp.
type outPacket struct {
	t     *Track // the packet's Track, for its counters
	e     *packet
	seq   uint16
	ts    uint32
	start bool // first packet of a segment (a keyframe start)
}

// sink is one binding of a DownTrack to a pion sender: its queue, writer and
// RTCP goroutines, and its rewrite state. It is attached to every Track of
// its DownTrack (one, or the layers of a layered one) and forwards the
// packets of one of them, its current layer.
type sink struct {
	tracks []*Track // layers, best first
	c      *downCounters
	ssrc   uint32
	pt     uint8
	w      webrtc.TrackLocalWriter
	log    *slog.Logger
	now    func() time.Time
	clock  uint32 // codec clock rate

	queue    chan outPacket
	rtx      chan outPacket
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	// est is the PeerConnection's bandwidth estimator, found in the RTCP
	// it reads (or given).
	est atomic.Pointer[BandwidthEstimator]

	// mu guards what follows. It is taken inside a Track's mutex (never
	// the other way round).
	mu       sync.Mutex
	cur      int  // layer forwarded
	next     int  // layer to cut over to at its next keyframe start; -1 none
	started  bool // has a segment
	needSync bool // start a new segment at the next keyframe start
	src      *Track
	gen      uint32    // upstream Track and generation of the last segment
	segs     []segment // oldest first, at most maxSegments
	lastSeq  uint16    // highest outgoing sequence number queued
	lastTS   uint32    // highest outgoing timestamp queued
	lastWall time.Time // when the last packet was queued
	seqStart uint16    // random first sequence number
	tsStart  uint32    // random first timestamp
	budget   rtxBudget
	onSwitch func(from, to int) // called with mu held; must not block
}

// rtxQueueSize bounds pending retransmissions per viewer.
const rtxQueueSize = 128

type sinkParams struct {
	tracks   []*Track
	c        *downCounters
	ssrc     uint32
	pt       uint8
	w        webrtc.TrackLocalWriter
	start    int
	seqStart uint16
	tsStart  uint32
	onSwitch func(from, to int)
}

func newSink(p sinkParams) *sink {
	t := p.tracks[0]
	return &sink{
		tracks:   p.tracks,
		c:        p.c,
		ssrc:     p.ssrc,
		pt:       p.pt,
		w:        p.w,
		log:      t.log,
		now:      t.p.Now,
		clock:    t.p.Codec.ClockRate,
		queue:    make(chan outPacket, t.p.QueueSize),
		rtx:      make(chan outPacket, rtxQueueSize),
		done:     make(chan struct{}),
		cur:      p.start,
		next:     -1,
		seqStart: p.seqStart,
		tsStart:  p.tsStart,
		budget:   newRTXBudget(t.p.RetransmitShare, t.p.RetransmitBurst),
		onSwitch: p.onSwitch,
	}
}

// startWriter starts the writer goroutine; stop ends it.
func (s *sink) startWriter() {
	s.wg.Add(1)
	go s.runWriter()
}

// startRTCP starts the RTCP goroutine. It cannot be interrupted while it
// waits in r.Read: it ends when Read fails (pion closes the sender's stream
// right after Unbind, or the PeerConnection closes) or at the first read
// after stop.
func (s *sink) startRTCP(r interceptor.RTCPReader) {
	if r != nil {
		go s.runRTCP(r)
	}
}

// stop ends the writer (and layer) goroutines and waits for them. It is
// idempotent.
func (s *sink) stop() {
	s.stopOnce.Do(func() { close(s.done) })
	s.wg.Wait()
}

func (s *sink) stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// estimator returns the viewer's bandwidth estimator, or nil.
func (s *sink) estimator() BandwidthEstimator {
	if p := s.est.Load(); p != nil {
		return *p
	}
	return nil
}

// forwarding reports whether t is the layer the viewer is sent.
func (s *sink) forwarding(t *Track) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tracks[s.cur] == t
}

// current returns the forwarded layer's Track and, if a switch is
// pending, its target's (else nil).
func (s *sink) current() (cur, next *Track) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next >= 0 {
		next = s.tracks[s.next]
	}
	return s.tracks[s.cur], next
}

// resync makes the viewer wait for t's next keyframe if t is its current
// layer (t's upstream source changed).
func (s *sink) resync(t *Track) {
	s.mu.Lock()
	if s.tracks[s.cur] == t {
		s.needSync = true
	}
	s.mu.Unlock()
}

// switchTo asks for layer i: the viewer keeps its current layer until i's
// next keyframe start, then cuts over. Asking for the current layer
// cancels a pending switch. It reports whether a switch is now pending.
func (s *sink) switchTo(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i == s.cur {
		s.next = -1
		return false
	}
	s.next = i
	return true
}

// forward rewrites e, a packet of Track t, for this viewer and queues it,
// or drops it. Called with t.mu held, in t's upstream order.
func (s *sink) forward(t *Track, e *packet, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next >= 0 && s.tracks[s.next] == t && e.keyframe {
		from := s.cur
		s.cur, s.next, s.needSync = s.next, -1, true
		s.c.layer.Store(int64(s.cur))
		s.c.layerSwitches.Add(1)
		t.log.Debug("viewer switched layer", "ssrc", s.ssrc, "from", s.tracks[from].p.ID, "to", t.p.ID)
		if s.onSwitch != nil {
			s.onSwitch(from, s.cur)
		}
	}
	if s.tracks[s.cur] != t {
		return // another layer's packet
	}
	var seg segment
	isNew := !s.started || s.needSync
	if isNew {
		if !e.keyframe {
			s.c.skipped.Add(1)
			return
		}
		seg = s.newSegment(t, e, now)
	} else {
		seg = s.segs[len(s.segs)-1]
		if e.ext < seg.upStart {
			// Arrived late, from before the segment: its outgoing number
			// belongs to the previous one.
			s.c.skipped.Add(1)
			return
		}
	}
	q := outPacket{t: t, e: e, seq: e.seq + seg.seqOff, ts: e.ts + seg.tsOff, start: isNew}
	select {
	case s.queue <- q:
	default:
		if !s.needSync {
			t.log.Debug("viewer queue full: dropping until the next keyframe", "ssrc", s.ssrc)
		}
		s.needSync = true
		s.c.dropped.Add(1)
		t.dropped.Add(1)
		return
	}
	s.budget.forwarded(now, e.size())
	if isNew {
		if len(s.segs) == maxSegments {
			s.segs = append(s.segs[:0], s.segs[1:]...)
		}
		s.segs = append(s.segs, seg)
		s.started, s.needSync, s.src, s.gen = true, false, t, e.gen
		s.lastSeq, s.lastTS = q.seq, q.ts
	} else {
		if d := q.seq - s.lastSeq; d != 0 && d < 0x8000 {
			s.lastSeq = q.seq
		}
		if int32(q.ts-s.lastTS) > 0 {
			s.lastTS = q.ts
		}
	}
	s.lastWall = now
}

// newSegment returns the rewrite that makes e, a packet of t, the next
// outgoing packet: at the random start for the first one, else right after
// the last sequence number; the timestamp offset is kept within one
// upstream source and, at a switch (of t's source, or to another layer),
// the last timestamp is advanced by the wall-clock gap.
func (s *sink) newSegment(t *Track, e *packet, now time.Time) segment {
	outSeq, outTS := s.seqStart, s.tsStart
	if s.started {
		outSeq = s.lastSeq + 1
		prev := s.segs[len(s.segs)-1]
		outTS = e.ts + prev.tsOff
		if e.gen != s.gen || t != s.src {
			ticks := uint32(1)
			if gap := now.Sub(s.lastWall); gap > 0 {
				ticks = max(1, uint32(gap.Seconds()*float64(s.clock)))
			}
			outTS = s.lastTS + ticks
		}
	}
	return segment{
		t:        t,
		outStart: outSeq,
		upStart:  e.ext,
		seqOff:   outSeq - e.seq,
		tsOff:    outTS - e.ts,
		gen:      e.gen,
	}
}

// segmentOf finds the segment a viewer's outgoing sequence number was sent
// in. Called with s.mu held.
func (s *sink) segmentOf(outSeq uint16) (segment, bool) {
	if !s.started {
		return segment{}, false
	}
	back := s.lastSeq - outSeq
	if back >= 0x8000 {
		return segment{}, false // never sent
	}
	for i := len(s.segs) - 1; i >= 0; i-- {
		seg := s.segs[i]
		if back > s.lastSeq-seg.outStart {
			continue // before this segment
		}
		return seg, true
	}
	return segment{}, false
}

// lookup maps a viewer's outgoing sequence number back to its Track's ring
// and returns the packet rewritten as it was sent. It takes s.mu, then the
// Track's mutex: call it with neither held.
func (s *sink) lookup(outSeq uint16) (outPacket, bool) {
	s.mu.Lock()
	seg, ok := s.segmentOf(outSeq)
	s.mu.Unlock()
	if !ok {
		return outPacket{}, false
	}
	seg.t.mu.Lock()
	e := seg.t.ring.get(outSeq - seg.seqOff)
	seg.t.mu.Unlock()
	if e == nil || e.gen != seg.gen {
		return outPacket{}, false
	}
	return outPacket{t: seg.t, e: e, seq: outSeq, ts: e.ts + seg.tsOff}, true
}

// requestKeyframe asks the current layer (and a pending switch's target)
// for a keyframe; with restart the viewer also waits for the next one (its
// sender dropped packets before it was ready).
func (s *sink) requestKeyframe(restart bool) {
	s.mu.Lock()
	if restart {
		s.needSync = true
	}
	cur := s.tracks[s.cur]
	var next *Track
	if s.next >= 0 {
		next = s.tracks[s.next]
	}
	s.mu.Unlock()
	cur.keyframeRequest()
	if next != nil {
		next.keyframeRequest()
	}
}
