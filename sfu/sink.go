package sfu

import (
	"sync"
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
	outStart uint16 // first outgoing sequence number
	upStart  uint64 // extended upstream sequence number sent as outStart
	seqOff   uint16
	tsOff    uint32
	gen      uint32 // upstream generation the segment maps into
}

// outPacket is one queued write: a shared packet with this viewer's
// sequence number and timestamp.
type outPacket struct {
	e     *packet
	seq   uint16
	ts    uint32
	start bool // first packet of a segment (a keyframe start)
}

// sink is one binding of a DownTrack to a pion sender: its queue, writer and
// RTCP goroutines, and its rewrite state.
type sink struct {
	t    *Track
	c    *downCounters
	ssrc uint32
	pt   uint8
	w    webrtc.TrackLocalWriter

	queue    chan outPacket
	rtx      chan outPacket
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	// Rewrite state, guarded by t.mu.
	started  bool // has a segment
	needSync bool // start a new segment at the next keyframe start
	gen      uint32
	segs     []segment // oldest first, at most maxSegments
	lastSeq  uint16    // highest outgoing sequence number queued
	lastTS   uint32    // highest outgoing timestamp queued
	lastWall time.Time // when the last packet was queued
	seqStart uint16    // random first sequence number
	tsStart  uint32    // random first timestamp
}

// rtxQueueSize bounds pending retransmissions per viewer.
const rtxQueueSize = 128

func newSink(t *Track, c *downCounters, ssrc uint32, pt uint8, w webrtc.TrackLocalWriter, seqStart uint16, tsStart uint32) *sink {
	return &sink{
		t:        t,
		c:        c,
		ssrc:     ssrc,
		pt:       pt,
		w:        w,
		queue:    make(chan outPacket, t.p.QueueSize),
		rtx:      make(chan outPacket, rtxQueueSize),
		done:     make(chan struct{}),
		seqStart: seqStart,
		tsStart:  tsStart,
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

// stop ends the writer goroutine and waits for it. It is idempotent.
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

// forward rewrites e for this viewer and queues it, or drops it. Called with
// t.mu held, in upstream order.
func (s *sink) forward(e *packet, now time.Time) {
	t := s.t
	var seg segment
	isNew := !s.started || s.needSync
	if isNew {
		if !e.keyframe {
			s.c.skipped.Add(1)
			return
		}
		seg = s.newSegment(e, now)
	} else {
		seg = s.segs[len(s.segs)-1]
		if e.ext < seg.upStart {
			// Arrived late, from before the segment: its outgoing number
			// belongs to the previous one.
			s.c.skipped.Add(1)
			return
		}
	}
	q := outPacket{e: e, seq: e.seq + seg.seqOff, ts: e.ts + seg.tsOff, start: isNew}
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
	if isNew {
		if len(s.segs) == maxSegments {
			s.segs = append(s.segs[:0], s.segs[1:]...)
		}
		s.segs = append(s.segs, seg)
		s.started, s.needSync, s.gen = true, false, e.gen
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

// newSegment returns the rewrite that makes e the next outgoing packet: at
// the random start for the first one, else right after the last sequence
// number; the timestamp offset is kept within one upstream source and, at a
// switch, the last timestamp is advanced by the wall-clock gap.
func (s *sink) newSegment(e *packet, now time.Time) segment {
	outSeq, outTS := s.seqStart, s.tsStart
	if s.started {
		outSeq = s.lastSeq + 1
		prev := s.segs[len(s.segs)-1]
		outTS = e.ts + prev.tsOff
		if e.gen != s.gen {
			ticks := uint32(1)
			if gap := now.Sub(s.lastWall); gap > 0 {
				ticks = max(1, uint32(gap.Seconds()*float64(s.t.p.Codec.ClockRate)))
			}
			outTS = s.lastTS + ticks
		}
	}
	return segment{
		outStart: outSeq,
		upStart:  e.ext,
		seqOff:   outSeq - e.seq,
		tsOff:    outTS - e.ts,
		gen:      e.gen,
	}
}

// lookup maps a viewer's outgoing sequence number back to the ring and
// returns the packet rewritten as it was sent. Called with t.mu held.
func (s *sink) lookup(outSeq uint16) (outPacket, bool) {
	if !s.started {
		return outPacket{}, false
	}
	back := s.lastSeq - outSeq
	if back >= 0x8000 {
		return outPacket{}, false // never sent
	}
	for i := len(s.segs) - 1; i >= 0; i-- {
		seg := s.segs[i]
		if back > s.lastSeq-seg.outStart {
			continue // before this segment
		}
		e := s.t.ring.get(outSeq - seg.seqOff)
		if e == nil || e.gen != seg.gen {
			return outPacket{}, false
		}
		return outPacket{e: e, seq: outSeq, ts: e.ts + seg.tsOff}, true
	}
	return outPacket{}, false
}
