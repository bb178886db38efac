package sfu

import "github.com/pion/rtp"

// packet is an immutable copy of one upstream RTP packet, shared by the ring
// and every viewer queue. Header extensions and padding are not kept: their
// meaning is negotiated per link, and each viewer's sender adds its own.
type packet struct {
	seq      uint16
	ts       uint32
	marker   bool
	csrc     []uint32
	payload  []byte
	keyframe bool   // first packet of a keyframe (every packet for audio)
	gen      uint32 // upstream source generation (see Track.Switch)
	ext      uint64 // extended (unwrapped) upstream sequence number, set by ring.push
}

// newPacket copies p's header fields and payload.
func newPacket(p *rtp.Packet) *packet {
	e := &packet{
		seq:     p.SequenceNumber,
		ts:      p.Timestamp,
		marker:  p.Marker,
		payload: append([]byte(nil), p.Payload...),
	}
	if len(p.CSRC) > 0 {
		e.csrc = append([]uint32(nil), p.CSRC...)
	}
	return e
}

// size is e's size on the wire without header extensions.
func (e *packet) size() int { return 12 + 4*len(e.csrc) + len(e.payload) }

// header returns a fresh header for e as written to one viewer. It shares
// no mutable state with e (interceptors may add extensions to it).
func (e *packet) header(pt uint8, ssrc uint32, seq uint16, ts uint32) rtp.Header {
	return rtp.Header{
		Version:        2,
		Marker:         e.marker,
		PayloadType:    pt,
		SequenceNumber: seq,
		Timestamp:      ts,
		SSRC:           ssrc,
		CSRC:           e.csrc,
	}
}

// ring keeps the last size packets of a Track, indexed by upstream sequence
// number. Sequence numbers are unwrapped to 64 bits so any size works across
// the 16-bit wrap. It is not safe for concurrent use (the Track's mutex
// guards it).
type ring struct {
	slots   []*packet
	has     bool
	highest uint16 // highest sequence number pushed
	extHigh uint64 // its extended value
}

func newRing(size int) *ring {
	return &ring{slots: make([]*packet, size)}
}

// push stores e, evicting whatever falls out of the window of the last
// len(slots) sequence numbers. A packet older than the window is not
// stored; push reports whether e was stored.
func (r *ring) push(e *packet) bool {
	size := uint64(len(r.slots))
	if !r.has {
		r.has = true
		r.highest = e.seq
		r.extHigh = 1 << 32 // room to go back without underflow
		e.ext = r.extHigh
		r.slots[e.ext%size] = e
		return true
	}
	diff := e.seq - r.highest
	if diff != 0 && diff < 0x8000 { // newer
		d := uint64(diff)
		if d >= size {
			clear(r.slots)
		} else {
			for i := uint64(1); i < d; i++ {
				r.slots[(r.extHigh+i)%size] = nil
			}
		}
		r.extHigh += d
		r.highest = e.seq
		e.ext = r.extHigh
		r.slots[e.ext%size] = e
		return true
	}
	back := uint64(r.highest - e.seq) // 0 for a duplicate of the highest
	if back >= size {
		return false
	}
	e.ext = r.extHigh - back
	r.slots[e.ext%size] = e
	return true
}

// get returns the packet with upstream sequence number seq, or nil if it is
// not in the window (evicted, never received, or newer than the highest).
func (r *ring) get(seq uint16) *packet {
	if !r.has {
		return nil
	}
	back := r.highest - seq
	if back >= 0x8000 || uint64(back) >= uint64(len(r.slots)) {
		return nil
	}
	ext := r.extHigh - uint64(back)
	e := r.slots[ext%uint64(len(r.slots))]
	if e == nil || e.ext != ext {
		return nil
	}
	return e
}

// reset forgets every packet (the upstream source changed).
func (r *ring) reset() {
	clear(r.slots)
	r.has = false
}
