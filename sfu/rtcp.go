package sfu

import (
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// rtcpBufferSize holds one SRTCP datagram.
const rtcpBufferSize = 1500

// runRTCP reads the viewer's RTCP and handles NACK, PLI and FIR. Reading
// also drives the sender's RTCP interceptors (reports).
func (s *sink) runRTCP(r interceptor.RTCPReader) {
	buf := make([]byte, rtcpBufferSize)
	for {
		n, attr, err := r.Read(buf, make(interceptor.Attributes))
		if err != nil || s.stopped() {
			return
		}
		// The interceptors may have parsed the batch already.
		pkts, err := attr.GetRTCPPackets(buf[:n])
		if err != nil {
			s.t.log.Debug("bad RTCP from viewer", "ssrc", s.ssrc, "err", err)
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
			s.t.keyframeRequest(nil)
		}
	case *rtcp.FullIntraRequest:
		for _, f := range p.FIR {
			if f.SSRC == s.ssrc {
				s.c.plis.Add(1)
				s.t.keyframeRequest(nil)
				return
			}
		}
	}
}

// retransmit queues the packet the viewer knows as seq, if the ring still
// has it.
func (s *sink) retransmit(seq uint16) {
	s.c.nacks.Add(1)
	s.t.nacks.Add(1)
	s.t.mu.Lock()
	q, ok := s.lookup(seq)
	s.t.mu.Unlock()
	if !ok {
		return
	}
	select {
	case s.rtx <- q:
	default: // the viewer asks faster than it can be served
	}
}
