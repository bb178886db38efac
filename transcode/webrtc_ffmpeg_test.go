package transcode

import (
	"encoding/binary"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// rtpSink receives the RTP packets of one WebRTC output on 127.0.0.1.
type rtpSink struct {
	conn *net.UDPConn
	done chan struct{}

	mu    sync.Mutex
	pkts  []rtp.Packet
	sizes []int   // datagram sizes
	errs  []error // undecodable datagrams
}

// listenRTP starts an rtpSink on 127.0.0.1:0, closed at cleanup.
func listenRTP(t *testing.T) *rtpSink {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(4 << 20) // ffmpeg runs faster than real time here: bursts
	s := &rtpSink{conn: conn, done: make(chan struct{})}
	go s.read()
	t.Cleanup(func() {
		_ = conn.Close()
		<-s.done
	})
	return s
}

func (s *rtpSink) addr() string { return s.conn.LocalAddr().String() }

// read collects datagrams until the socket closes or the one-byte end mark arrives.
func (s *rtpSink) read() {
	defer close(s.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := s.conn.Read(buf)
		if err != nil || n == 1 {
			return
		}
		var p rtp.Packet
		err = p.Unmarshal(slices.Clone(buf[:n]))
		s.mu.Lock()
		if err != nil {
			s.errs = append(s.errs, err)
		} else {
			s.pkts, s.sizes = append(s.pkts, p), append(s.sizes, n)
		}
		s.mu.Unlock()
	}
}

// stop sends the end mark (after everything ffmpeg sent, since ffmpeg has
// exited and loopback UDP keeps a socket's order) and returns what arrived.
func (s *rtpSink) stop(t *testing.T) ([]rtp.Packet, []int) {
	t.Helper()
	c, err := net.DialUDP("udp", nil, s.conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(testTimeout):
		t.Fatalf("RTP receiver %s did not get its end mark", s.addr())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, err := range s.errs {
		t.Errorf("%s: undecodable RTP packet: %v", s.addr(), err)
	}
	return s.pkts, s.sizes
}

// h264NALs returns the NAL units an RTP payload carries (RFC 6184,
// packetization mode 1): a single NAL unit, the units of a STAP-A, or, for
// an FU-A fragment, only the fragmented unit's reconstructed header byte.
func h264NALs(p []byte) ([][]byte, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("empty payload")
	}
	switch typ := p[0] & 0x1f; {
	case typ >= 1 && typ <= 23:
		return [][]byte{p}, nil
	case typ == 24: // STAP-A
		var nals [][]byte
		for rest := p[1:]; len(rest) > 0; {
			if len(rest) < 2 {
				return nil, fmt.Errorf("STAP-A: truncated size")
			}
			n := int(binary.BigEndian.Uint16(rest))
			rest = rest[2:]
			if n == 0 || n > len(rest) {
				return nil, fmt.Errorf("STAP-A: NAL size %d of %d bytes left", n, len(rest))
			}
			nals, rest = append(nals, rest[:n]), rest[n:]
		}
		return nals, nil
	case typ == 28: // FU-A
		if len(p) < 2 {
			return nil, fmt.Errorf("FU-A: no FU header")
		}
		return [][]byte{{p[0]&0xe0 | p[1]&0x1f}}, nil
	default:
		return nil, fmt.Errorf("unexpected NAL unit type %d", typ)
	}
}

// TestTranscodeWebRTC runs the whole command, ladder and WebRTC outputs,
// through real ffmpeg and checks the RTP that arrives.
func TestTranscodeWebRTC(t *testing.T) {
	const seconds = 4
	src := Source{Width: 320, Height: 180, FPS: 30, HasAudio: true}
	tags := loadTags(t, makeSource(t, 320, 180, 30, seconds, 60, true))
	rungs := []Rung{{Name: "180p", Width: 320, Height: 180, VideoBitrate: 300_000}, {Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000}}
	video, audio := listenRTP(t), listenRTP(t)
	const videoSSRC, audioSSRC = 0xCAFEBABE, 0x01020304 // one above 2^31: ffmpeg's -ssrc is signed
	c := newCollector()
	tr := newTestTranscoder(t, Params{Rungs: rungs, Source: src, WebRTC: &WebRTCOutput{
		VideoAddr: video.addr(), AudioAddr: audio.addr(), VideoSSRC: videoSSRC, AudioSSRC: audioSSRC,
	}}, c)
	feed(t, tr, tags)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	vpkts, vsizes := video.stop(t)
	apkts, asizes := audio.stop(t)

	// The ladder is untouched by the extra output.
	if n := checkEpoch(t, c, 0, rungs, regexp.MustCompile(`^avc1\.[0-9a-f]{6},mp4a\.40\.2$`)); n != 2 {
		t.Errorf("got %d fragments per rendition, want 2", n)
	}
	if len(c.ends) != 1 || c.ends[0].err != nil {
		t.Fatalf("OnEpochEnd calls %+v, want one clean end", c.ends)
	}

	t.Run("video", func(t *testing.T) {
		if len(vpkts) < 100 {
			t.Fatalf("%d video RTP packets, want ≥ 100 for %d s at 30 fps", len(vpkts), seconds)
		}
		type au struct{ sps, pps, idr bool }
		aus := map[uint32]*au{}
		var idrs []uint32 // timestamps of IDR access units, in order
		var sps []byte
		for i, p := range vpkts {
			if p.PayloadType != WebRTCVideoPayloadType || p.SSRC != videoSSRC || p.Version != 2 {
				t.Fatalf("packet %d: PT %d SSRC %#x version %d, want PT %d SSRC %#x version 2",
					i, p.PayloadType, p.SSRC, p.Version, WebRTCVideoPayloadType, uint32(videoSSRC))
			}
			if vsizes[i] > WebRTCPacketSize {
				t.Errorf("packet %d: %d bytes, over %d", i, vsizes[i], WebRTCPacketSize)
			}
			if i > 0 {
				if d := int32(p.Timestamp - vpkts[i-1].Timestamp); d < 0 {
					t.Errorf("packet %d: timestamp goes back by %d ticks (B-frames?)", i, -d)
				}
				if p.SequenceNumber != vpkts[i-1].SequenceNumber+1 {
					t.Logf("packet %d: sequence %d after %d (lost on loopback?)", i, p.SequenceNumber, vpkts[i-1].SequenceNumber)
				}
			}
			nals, err := h264NALs(p.Payload)
			if err != nil {
				t.Fatalf("packet %d: %v", i, err)
			}
			a := aus[p.Timestamp]
			if a == nil {
				a = &au{}
				aus[p.Timestamp] = a
			}
			for _, n := range nals {
				switch n[0] & 0x1f {
				case 7:
					a.sps = true
					if sps == nil {
						sps = n
					}
				case 8:
					a.pps = true
				case 5:
					if !a.idr {
						idrs = append(idrs, p.Timestamp)
					}
					a.idr = true
				}
			}
		}
		// profile_idc 66 with constraint_set1: constrained baseline; level 3.1.
		if len(sps) < 4 || sps[1] != 0x42 || sps[2]&0x40 == 0 || sps[3] != 31 {
			t.Errorf("SPS %x: want profile 0x42, constraint_set1, level 31", sps)
		}
		if len(idrs) < 3 {
			t.Fatalf("%d IDR access units in %d s, want a keyframe every second", len(idrs), seconds)
		}
		for i, ts := range idrs {
			if a := aus[ts]; !a.sps || !a.pps {
				t.Errorf("IDR access unit %d (ts %d): SPS %v PPS %v, want both before every keyframe", i, ts, a.sps, a.pps)
			}
			if i > 0 {
				if d := ts - idrs[i-1]; d < 90_000-3000 || d > 90_000+3000 { // 1 s ± a frame at 90 kHz
					t.Errorf("IDR %d is %d ticks after the previous one, want ~90000 (1 s)", i, d)
				}
			}
		}
		if n := len(aus); n < 100 {
			t.Errorf("%d video frames, want ~%d", n, 30*seconds)
		}
	})

	t.Run("audio", func(t *testing.T) {
		if len(apkts) < 100 {
			t.Fatalf("%d audio RTP packets, want ≥ 100 for %d s of 20 ms Opus frames", len(apkts), seconds)
		}
		steps := map[uint32]int{}
		for i, p := range apkts {
			if p.PayloadType != WebRTCAudioPayloadType || p.SSRC != audioSSRC || p.Version != 2 {
				t.Fatalf("packet %d: PT %d SSRC %#x version %d, want PT %d SSRC %#x version 2",
					i, p.PayloadType, p.SSRC, p.Version, WebRTCAudioPayloadType, uint32(audioSSRC))
			}
			if asizes[i] > WebRTCPacketSize || len(p.Payload) == 0 {
				t.Fatalf("packet %d: %d bytes, payload %d", i, asizes[i], len(p.Payload))
			}
			// Opus TOC: CELT-only configurations (16-31) for lowdelay, stereo bit.
			if toc := p.Payload[0]; toc>>3 < 16 || toc&0x04 == 0 {
				t.Fatalf("packet %d: Opus TOC %#x, want a CELT-only stereo frame", i, toc)
			}
			if i > 0 && p.SequenceNumber == apkts[i-1].SequenceNumber+1 {
				steps[p.Timestamp-apkts[i-1].Timestamp]++
			}
		}
		// Sample-exact timestamps, not the FLV's millisecond ones.
		if len(steps) != 1 || steps[960] == 0 {
			t.Errorf("timestamp steps between consecutive packets %v, want only 960 (20 ms at 48 kHz)", steps)
		}
	})
}

// TestTranscodeWebRTCLowLayer: with a low layer, real ffmpeg sends two
// H.264 streams from one picture: keyframes on the same 1 s clock (so a
// viewer can switch between them at any keyframe) and the low one at a
// fraction of the bytes.
func TestTranscodeWebRTCLowLayer(t *testing.T) {
	const seconds = 4
	src := Source{Width: 640, Height: 360, FPS: 30, HasAudio: true}
	tags := loadTags(t, makeSource(t, 640, 360, 30, seconds, 60, true))
	rungs := []Rung{{Name: "360p", Width: 640, Height: 360, VideoBitrate: 800_000}}
	top, low := listenRTP(t), listenRTP(t)
	const topSSRC, lowSSRC = 0x0A0A0A0A, 0x0B0B0B0B
	c := newCollector()
	tr := newTestTranscoder(t, Params{Rungs: rungs, Source: src, WebRTC: &WebRTCOutput{
		VideoAddr: top.addr(), VideoSSRC: topSSRC, LowAddr: low.addr(), LowSSRC: lowSSRC,
		AudioAddr: listenRTP(t).addr(), AudioSSRC: 0x0C0C0C0C,
	}}, c)
	feed(t, tr, tags)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.ends) != 1 || c.ends[0].err != nil {
		t.Fatalf("OnEpochEnd calls %+v, want one clean end", c.ends)
	}
	tpkts, tsizes := top.stop(t)
	lpkts, lsizes := low.stop(t)
	idrs := func(name string, pkts []rtp.Packet, ssrc uint32) []uint32 {
		var out []uint32
		seen := map[uint32]bool{}
		for i, p := range pkts {
			if p.SSRC != ssrc || p.PayloadType != WebRTCVideoPayloadType {
				t.Fatalf("%s packet %d: SSRC %#x PT %d", name, i, p.SSRC, p.PayloadType)
			}
			nals, err := h264NALs(p.Payload)
			if err != nil {
				t.Fatalf("%s packet %d: %v", name, i, err)
			}
			for _, n := range nals {
				if n[0]&0x1f == 5 && !seen[p.Timestamp] {
					seen[p.Timestamp] = true
					out = append(out, p.Timestamp)
				}
			}
		}
		return out
	}
	ti, li := idrs("top", tpkts, topSSRC), idrs("low", lpkts, lowSSRC)
	if len(ti) < 3 || len(ti) != len(li) {
		t.Fatalf("IDRs: top %d, low %d; want ≥ 3 each, as many in both", len(ti), len(li))
	}
	// Both RTP muxers start their timestamps at random offsets; the
	// keyframes must be the same distance apart in both.
	for i := 1; i < len(ti); i++ {
		if dt, dl := ti[i]-ti[i-1], li[i]-li[i-1]; dt != dl {
			t.Errorf("IDR %d: %d ticks after the previous on top, %d on low; want the same clock", i, dt, dl)
		}
	}
	sum := func(s []int) (n int) {
		for _, v := range s {
			n += v
		}
		return n
	}
	tb, lb := sum(tsizes), sum(lsizes)
	t.Logf("top %d packets %d bytes, low %d packets %d bytes", len(tpkts), tb, len(lpkts), lb)
	if lb*2 > tb {
		t.Errorf("low layer %d bytes, top %d: want under half", lb, tb)
	}
}

// TestTranscodeWebRTCVideoOnly: a publisher without audio gets its ladder
// and its WebRTC video (ffmpeg's nobuffer flag once made this encode
// nothing at all).
func TestTranscodeWebRTCVideoOnly(t *testing.T) {
	src := Source{Width: 320, Height: 180, FPS: 30}
	tags := loadTags(t, makeSource(t, 320, 180, 30, 4, 60, false))
	rungs := []Rung{{Name: "180p", Width: 320, Height: 180, VideoBitrate: 300_000}}
	video := listenRTP(t)
	c := newCollector()
	tr := newTestTranscoder(t, Params{Rungs: rungs, Source: src, WebRTC: &WebRTCOutput{VideoAddr: video.addr(), VideoSSRC: 9}}, c)
	feed(t, tr, tags)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	pkts, _ := video.stop(t)
	if n := checkEpoch(t, c, 0, rungs, regexp.MustCompile(`^avc1\.[0-9a-f]{6}$`)); n != 2 {
		t.Errorf("got %d fragments, want 2", n)
	}
	if len(pkts) < 100 {
		t.Errorf("%d video RTP packets for 4 s, want ≥ 100", len(pkts))
	}
}
