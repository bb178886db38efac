package main

import (
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"
)

// The synthetic stream's shape.
const (
	fps          = 30
	frameTicks   = 90000 / fps // RTP timestamp step of one frame (90 kHz)
	gopFrames    = fps         // a keyframe every second
	maxPayload   = 1200        // bytes of RTP payload at most
	opusInterval = 20 * time.Millisecond
	opusTicks    = 48000 * 20 / 1000 // RTP timestamp step of one Opus packet
	opusBytes    = 160
	// keyShare is a keyframe's share of one second's bytes: 60 KB of the
	// 312.5 KB a second of 2.5 Mbit/s carries.
	keyShare = 0.192

	videoPT, audioPT     = 102, 111
	videoSSRC, audioSSRC = 0x5ca1ab1e, 0xa0d10000

	// H.264 NAL unit headers and RTP payload types (RFC 6184).
	nalIDR   = 0x65 // nal_ref_idc 3, type 5
	nalP     = 0x41 // nal_ref_idc 2, type 1 (non-IDR slice)
	typeSTAP = 24
	typeFUA  = 28
)

// Parameter sets of a 1280x720 constrained-baseline stream, as an encoder
// would send them; only their NAL types matter here.
var (
	synthSPS = []byte{0x67, 0x42, 0xe0, 0x1f, 0x8c, 0x8d, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc8, 0xf1, 0x83, 0x2a}
	synthPPS = []byte{0x68, 0xce, 0x3c, 0x80}
)

// frameSizes returns the bytes of a keyframe (IDR slice) and of an average
// P-frame for a stream of bitrate bits per second with one keyframe a
// second.
func frameSizes(bitrate int) (key, p int) {
	perSecond := float64(bitrate) / 8
	key = int(perSecond * keyShare)
	p = int((perSecond - float64(key)) / (gopFrames - 1))
	return key, p
}

// synth makes the packets of a 720p30-like H.264 stream and an Opus
// stream. It is not safe for concurrent use.
type synth struct {
	keyBytes, pBytes int
	frame            int
	vseq, aseq       uint16
	vts, ats         uint32
	rng              *rand.Rand // P-frame sizes vary ±10 %
}

func newSynth(bitrate int) *synth {
	k, p := frameSizes(bitrate)
	return &synth{keyBytes: k, pBytes: p, vseq: 17000, aseq: 900, vts: 1 << 20, ats: 5 << 20,
		rng: rand.New(rand.NewPCG(1, 2))}
}

// keyframeNext reports whether nextFrame returns a keyframe.
func (s *synth) keyframeNext() bool { return s.frame%gopFrames == 0 }

// nextFrame returns the RTP packets of the next video frame: each
// gopFrames-th is a keyframe (an SPS+PPS STAP-A, then the IDR slice), the
// others one P slice. All share a timestamp; the last carries the marker.
func (s *synth) nextFrame() []*rtp.Packet {
	var payloads [][]byte
	if s.keyframeNext() {
		payloads = append(payloads, stapA(synthSPS, synthPPS))
		payloads = append(payloads, fragment(fillNAL(nalIDR, s.keyBytes), maxPayload)...)
	} else {
		size := s.pBytes * (90 + s.rng.IntN(21)) / 100
		payloads = fragment(fillNAL(nalP, size), maxPayload)
	}
	pkts := make([]*rtp.Packet, len(payloads))
	for i, pl := range payloads {
		pkts[i] = &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: videoPT, SequenceNumber: s.vseq,
			Timestamp: s.vts, SSRC: videoSSRC, Marker: i == len(payloads)-1}, Payload: pl}
		s.vseq++
	}
	s.vts += frameTicks
	s.frame++
	return pkts
}

// nextAudio returns the next 20 ms Opus packet.
func (s *synth) nextAudio() *rtp.Packet {
	pl := make([]byte, opusBytes)
	pl[0] = 0xfc // TOC: CELT fullband 20 ms, stereo, one frame
	for i := 1; i < len(pl); i++ {
		pl[i] = byte(i*13) ^ byte(s.aseq)
	}
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: audioPT, SequenceNumber: s.aseq,
		Timestamp: s.ats, SSRC: audioSSRC}, Payload: pl}
	s.aseq++
	s.ats += opusTicks
	return p
}

// fillNAL is a NAL unit of size bytes (at least 2): the header byte, then
// filler.
func fillNAL(header byte, size int) []byte {
	n := make([]byte, max(size, 2))
	n[0] = header
	for i := 1; i < len(n); i++ {
		n[i] = byte(i*31 + 7)
	}
	return n
}

// stapA aggregates NAL units into one STAP-A payload.
func stapA(nalus ...[]byte) []byte {
	b := []byte{nalus[0][0]&0x60 | typeSTAP}
	for _, n := range nalus {
		b = append(b, byte(len(n)>>8), byte(len(n)))
		b = append(b, n...)
	}
	return b
}

// fragment returns nal as one payload if it fits in max bytes, else as
// FU-A fragments of at most max bytes each.
func fragment(nal []byte, max int) [][]byte {
	if len(nal) <= max {
		return [][]byte{nal}
	}
	indicator := nal[0]&0xe0 | typeFUA
	typ := nal[0] & 0x1f
	data := nal[1:]
	step := max - 2
	var out [][]byte
	for off := 0; off < len(data); off += step {
		end := min(off+step, len(data))
		h := typ
		if off == 0 {
			h |= 0x80 // start
		}
		if end == len(data) {
			h |= 0x40 // end
		}
		p := make([]byte, 0, 2+end-off)
		p = append(p, indicator, h)
		out = append(out, append(p, data[off:end]...))
	}
	return out
}
