package sfu

import (
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// rtcpBufferSize holds one SRTCP datagram.
const rtcpBufferSize = 1500

// runRTCP reads the viewer's RTCP and handles NACK, PLI and FIR. Reading
// also drives the sender's RTCP interceptors (reports, and the bandwidth
// estimator of NewAPI, which the first batch brings along).
func (s *sink) runRTCP(r interceptor.RTCPReader) {
	buf := make([]byte, rtcpBufferSize)
	for {
		n, attr, err := r.Read(buf, make(interceptor.Attributes))
		if err != nil || s.stopped() {
			return
		}
		if s.est.Load() == nil {
			if e := estimatorFrom(attr); e != nil {
				s.est.Store(&e)
			}
		}
		// The interceptors may have parsed the batch already.
		pkts, err := attr.GetRTCPPackets(buf[:n])
		if err != nil {
			s.log.Debug("bad RTCP from viewer", "ssrc", s.ssrc, "err", err)
			continue
		}
		for _, p := range pkts {
			s.handleRTCP(p)
		}
	}
}

func (s *sink) handleRTCP(p rtcp.Packet) {
	switch p := p.(type) {
	case *rtcp.TransportLayerNack:
		if p.MediaSSRC != s.ssrc {
			return
		}
		for i := range p.Nacks {
			p.Nacks[i].Range(func(seq uint16) bool {
				s.retransmit(seq)
				return true
			})
		}
	case *rtcp.PictureLossIndication:
		if p.MediaSSRC == s.ssrc {
			s.c.plis.Add(1)
			s.requestKeyframe(false)
		}
	case *rtcp.FullIntraRequest:
		for _, f := range p.FIR {
			if f.SSRC == s.ssrc {
				s.c.plis.Add(1)
				s.requestKeyframe(false)
				return
			}
		}
	}
}

// retransmit queues the packet the viewer knows as seq, if the ring still
// has it and the viewer's retransmission budget allows.
func (s *sink) retransmit(seq uint16) {
	s.c.nacks.Add(1)
	q, ok := s.lookup(seq)
	if !ok {
		cur, _ := s.current()
		cur.nacks.Add(1)
		return
	}
	q.t.nacks.Add(1)
	n, now := q.e.size(), s.now()
	s.mu.Lock()
	ok = s.budget.take(now, n)
	s.mu.Unlock()
	if !ok {
		s.c.overBudget.Add(1)
		q.t.overBudget.Add(1)
		return
	}
	select {
	case s.rtx <- q:
	default: // the viewer asks faster than it can be served
		s.mu.Lock()
		s.budget.refund(now, n)
		s.mu.Unlock()
	}
}
