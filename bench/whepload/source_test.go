package main

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"

	"github.com/canopylive/canopy/sfu"
)

func TestFrameSizes(t *testing.T) {
	key, p := frameSizes(2_500_000)
	if key != 60_000 || p < 8_000 || p > 10_000 {
		t.Fatalf("frameSizes(2.5M) = %d, %d; want 60000 and 8-10 KB", key, p)
	}
	if key+(gopFrames-1)*p > 2_500_000/8 || key+(gopFrames-1)*(p+1) < 2_500_000/8 {
		t.Fatalf("one GOP is %d bytes, want %d", key+(gopFrames-1)*p, 2_500_000/8)
	}
}

func TestFragment(t *testing.T) {
	for _, size := range []int{2, 1199, 1200, 1201, 2397, 2398, 60_000} {
		nal := fillNAL(nalIDR, size)
		got := fragment(nal, maxPayload)
		if size <= maxPayload {
			if len(got) != 1 || !bytes.Equal(got[0], nal) {
				t.Fatalf("size %d: want the NAL unit as one payload", size)
			}
			continue
		}
		if want := (size - 1 + maxPayload - 3) / (maxPayload - 2); len(got) != want {
			t.Fatalf("size %d: %d fragments, want %d", size, len(got), want)
		}
		if re := reassemble(t, got); !bytes.Equal(re, nal) {
			t.Fatalf("size %d: reassembled %d bytes differ from the NAL unit", size, len(re))
		}
	}
}

// reassemble checks FU-A fragments (RFC 6184 5.8) and returns the NAL unit.
func reassemble(t *testing.T, frags [][]byte) []byte {
	t.Helper()
	var nal []byte
	for i, f := range frags {
		if len(f) > maxPayload || len(f) < 3 {
			t.Fatalf("fragment %d: %d bytes", i, len(f))
		}
		ind, hdr := f[0], f[1]
		start, end := hdr&0x80 != 0, hdr&0x40 != 0
		if ind&0x1f != typeFUA || hdr&0x20 != 0 || start != (i == 0) || end != (i == len(frags)-1) {
			t.Fatalf("fragment %d of %d: indicator %#x, header %#x", i, len(frags), ind, hdr)
		}
		if i == 0 {
			nal = append(nal, ind&0xe0|hdr&0x1f)
		}
		nal = append(nal, f[2:]...)
	}
	return nal
}

func TestStapA(t *testing.T) {
	p := stapA(synthSPS, synthPPS)
	if p[0]&0x1f != typeSTAP || p[0]&0x60 != synthSPS[0]&0x60 {
		t.Fatalf("STAP-A header %#x", p[0])
	}
	var types []byte
	for off := 1; off < len(p); {
		if off+2 > len(p) {
			t.Fatalf("truncated size at %d", off)
		}
		n := int(p[off])<<8 | int(p[off+1])
		off += 2
		if n == 0 || off+n > len(p) {
			t.Fatalf("bad NAL size %d at %d", n, off)
		}
		types = append(types, p[off]&0x1f)
		off += n
	}
	if !bytes.Equal(types, []byte{7, 8}) {
		t.Fatalf("STAP-A holds NAL types %v, want SPS and PPS", types)
	}
}

// TestSynthStream checks three GOPs: packet sizes, sequence numbers,
// timestamps and markers, the NAL types of each frame, the bitrate, and
// that the sfu's own keyframe detection sees exactly one keyframe a GOP.
func TestSynthStream(t *testing.T) {
	const bitrate = 2_500_000
	s := newSynth(bitrate)
	track, err := sfu.NewTrack(sfu.TrackParams{ID: "video", StreamID: "t", Codec: h264Codec})
	if err != nil {
		t.Fatal(err)
	}
	defer track.Close()

	var (
		packets, gopBytes int
		prev              *rtp.Packet
	)
	for f := range 3 * gopFrames {
		key := s.keyframeNext()
		if key != (f%gopFrames == 0) {
			t.Fatalf("frame %d: keyframeNext %v", f, key)
		}
		pkts := s.nextFrame()
		var frags [][]byte
		for i, p := range pkts {
			if len(p.Payload) > maxPayload {
				t.Fatalf("frame %d packet %d: %d-byte payload", f, i, len(p.Payload))
			}
			if p.Marker != (i == len(pkts)-1) {
				t.Fatalf("frame %d packet %d of %d: marker %v", f, i, len(pkts), p.Marker)
			}
			if p.Timestamp != pkts[0].Timestamp {
				t.Fatalf("frame %d: timestamps differ within the frame", f)
			}
			if prev != nil && p.SequenceNumber != prev.SequenceNumber+1 {
				t.Fatalf("frame %d packet %d: sequence %d after %d", f, i, p.SequenceNumber, prev.SequenceNumber)
			}
			if i == 0 && prev != nil && p.Timestamp-prev.Timestamp != frameTicks {
				t.Fatalf("frame %d: timestamp step %d", f, p.Timestamp-prev.Timestamp)
			}
			if err := track.WriteRTP(p); err != nil {
				t.Fatal(err)
			}
			if f < gopFrames {
				gopBytes += len(p.Payload)
			}
			prev = p
		}
		packets += len(pkts)
		if key {
			if pkts[0].Payload[0]&0x1f != typeSTAP {
				t.Fatalf("frame %d: keyframe does not start with a STAP-A", f)
			}
			frags = payloads(pkts[1:])
		} else {
			frags = payloads(pkts)
		}
		nal := reassemble(t, frags)
		if want := byte(nalP); key {
			want = nalIDR
			if nal[0] != want {
				t.Fatalf("frame %d: NAL header %#x, want %#x", f, nal[0], want)
			}
		} else if nal[0] != want {
			t.Fatalf("frame %d: NAL header %#x, want %#x", f, nal[0], want)
		}
	}
	st := track.Stats()
	if st.Keyframes != 3 || st.PacketsIn != uint64(packets) {
		t.Fatalf("sfu saw %d keyframes in %d packets; want 3 in %d", st.Keyframes, st.PacketsIn, packets)
	}
	// One second of video: the bitrate within 5 % (payload bytes; the FU-A
	// and STAP-A headers are a fraction of a percent).
	if want := bitrate / 8; gopBytes < want*95/100 || gopBytes > want*105/100 {
		t.Fatalf("one GOP is %d payload bytes, want about %d", gopBytes, want)
	}
}

func payloads(pkts []*rtp.Packet) [][]byte {
	out := make([][]byte, len(pkts))
	for i, p := range pkts {
		out[i] = p.Payload
	}
	return out
}

func TestSynthAudio(t *testing.T) {
	s := newSynth(2_500_000)
	a, b := s.nextAudio(), s.nextAudio()
	if len(a.Payload) != opusBytes || a.Payload[0] != 0xfc || a.PayloadType != audioPT {
		t.Fatalf("audio packet: %d bytes, TOC %#x, PT %d", len(a.Payload), a.Payload[0], a.PayloadType)
	}
	if b.SequenceNumber != a.SequenceNumber+1 || b.Timestamp-a.Timestamp != 960 || a.SSRC != b.SSRC {
		t.Fatalf("audio: seq %d->%d ts %d->%d", a.SequenceNumber, b.SequenceNumber, a.Timestamp, b.Timestamp)
	}
}
