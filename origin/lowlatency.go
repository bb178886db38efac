package origin

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/sfu"
	"github.com/canopylive/canopy/transcode"
)

// LowLatencyParams switches on the low-latency (WebRTC) output.
type LowLatencyParams struct {
	Enabled bool
	// Rung names the ladder rung whose size the WebRTC video has; "" lets
	// the transcoder choose (the tallest encoded rung of at most 720 lines).
	Rung string
	// SettingEngine and ICEServers configure the WHEP sessions'
	// PeerConnections (tests restrict ICE to loopback).
	SettingEngine webrtc.SettingEngine
	ICEServers    []webrtc.ICEServer
	// Router, optional, picks a relay node for each WHEP viewer (the
	// tracker); the origin then answers the offer with a redirect there.
	Router WHEPRouter
}

// TrackVideoLow is the ID of the low video layer's track (the others are
// "video" and "audio"); relay links carry it under the same name.
const TrackVideoLow = "video-low"

// webrtcVideo is the WebRTC video of a broadcast: the rung the
// transcoder takes its picture from (transcode.WebRTCRungFor), the bitrate
// to ask for (0: the rung's own; for a passthrough rung, which has none,
// the configured ladder's bitrate for the nearest height, scaled by
// area), and whether it gets a low layer (transcode.WebRTCLowLayerFor).
func webrtcVideo(rungs, ladder []transcode.Rung, rung string) (bitrate int, low bool) {
	r, err := transcode.WebRTCRungFor(rungs, rung)
	if err != nil {
		return 0, false
	}
	br := r.VideoBitrate
	if r.Passthrough {
		bitrate = bitrateForSize(ladder, r.Width, r.Height)
		br = bitrate
	}
	if br <= 0 {
		return bitrate, false
	}
	_, _, _, low = transcode.WebRTCLowLayerFor(r.Width, r.Height, br)
	return bitrate, low
}

// bitrateForSize is the bitrate of the ladder rung nearest in height to h,
// scaled by the picture area; 0 for an empty ladder.
func bitrateForSize(ladder []transcode.Rung, w, h int) int {
	best := -1
	for i, r := range ladder {
		if r.Height > 0 && r.VideoBitrate > 0 && (best < 0 || abs(r.Height-h) < abs(ladder[best].Height-h)) {
			best = i
		}
	}
	if best < 0 {
		return 0
	}
	r := ladder[best]
	rw := r.Width
	if rw == 0 { // ladder rungs give a height; assume 16:9
		rw = r.Height * 16 / 9
	}
	return int(float64(r.VideoBitrate) * float64(w*h) / float64(rw*r.Height))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// H.264 as the transcoder's WebRTC output sends it: constrained baseline,
// packetization mode 1.
var h264Codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
	SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}

var opusCodec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
	SDPFmtpLine: "minptime=10;useinbandfec=1"}

// lowLatency keeps each stream's sfu tracks for as long as the origin
// runs, so WHEP viewers stay connected across a publisher's reconnect: a
// new broadcast's RTP goes into the same tracks after Switch. It is the
// origin's whep.Source.
type lowLatency struct {
	log *slog.Logger
	m   *metrics

	mu      sync.Mutex
	streams map[string]*llStream
	wg      sync.WaitGroup
}

// llStream is one stream's tracks and its current broadcast's receivers.
type llStream struct {
	video, audio *sfu.Track
	// videoLow is the smaller video layer (track ID "video-low"), made at
	// the first broadcast that has one; lowLive says the running
	// broadcast sends it.
	videoLow *sfu.Track
	lowLive  bool
	conns    []*net.UDPConn // of the running broadcast; nil between broadcasts
	gen      int            // counts opens: which broadcast conns belong to
	used     bool           // tracks have carried a broadcast before
}

func newLowLatency(log *slog.Logger, m *metrics) *lowLatency {
	return &lowLatency{log: log, m: m, streams: map[string]*llStream{}}
}

// Tracks implements whep.Source: video layers best first, then audio.
func (l *lowLatency) Tracks(stream string) []*sfu.Track {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.streams[stream]
	if !ok || s.conns == nil {
		return nil
	}
	out := []*sfu.Track{s.video}
	if s.lowLive {
		out = append(out, s.videoLow)
	}
	if s.audio != nil {
		out = append(out, s.audio)
	}
	return out
}

// open starts receiving a broadcast's RTP and returns what the transcoder
// must send it to, and the generation to stop it with.
// With low, the broadcast also sends the low video layer.
func (l *lowLatency) open(stream string, audio, low bool, rung string, bitrate int) (*transcode.WebRTCOutput, int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.streams[stream]
	if s == nil {
		s = &llStream{}
		var err error
		if s.video, err = sfu.NewTrack(sfu.TrackParams{ID: "video", StreamID: stream, Codec: h264Codec,
			Logger: l.log.With("stream", stream, "track", "video")}); err != nil {
			return nil, 0, err
		}
		if s.audio, err = sfu.NewTrack(sfu.TrackParams{ID: "audio", StreamID: stream, Codec: opusCodec,
			Logger: l.log.With("stream", stream, "track", "audio")}); err != nil {
			return nil, 0, errors.Join(err, s.video.Close())
		}
		l.streams[stream] = s
	}
	l.stopLocked(s)
	if low && s.videoLow == nil {
		var err error
		if s.videoLow, err = sfu.NewTrack(sfu.TrackParams{ID: TrackVideoLow, StreamID: stream, Codec: h264Codec,
			Logger: l.log.With("stream", stream, "track", TrackVideoLow)}); err != nil {
			return nil, 0, err
		}
	} else if s.used && s.videoLow != nil {
		s.videoLow.Switch()
	}
	if s.used {
		// A new ffmpeg: new sequence numbers, timestamps and SSRCs.
		s.video.Switch()
		s.audio.Switch()
	}
	s.used = true
	s.gen++
	out := &transcode.WebRTCOutput{Rung: rung, Bitrate: bitrate, VideoSSRC: randomSSRC(), AudioSSRC: randomSSRC()}
	for out.AudioSSRC == out.VideoSSRC {
		out.AudioSSRC = randomSSRC()
	}
	vc, err := listenRTP()
	if err != nil {
		return nil, 0, err
	}
	s.conns = []*net.UDPConn{vc}
	out.VideoAddr = vc.LocalAddr().String()
	l.receive(vc, s.video, out.VideoSSRC, transcode.WebRTCVideoPayloadType)
	s.lowLive = low
	if low {
		out.LowSSRC = randomSSRC()
		for out.LowSSRC == out.VideoSSRC || out.LowSSRC == out.AudioSSRC {
			out.LowSSRC = randomSSRC()
		}
		lc, err := listenRTP()
		if err != nil {
			l.stopLocked(s)
			return nil, 0, err
		}
		s.conns = append(s.conns, lc)
		out.LowAddr = lc.LocalAddr().String()
		l.receive(lc, s.videoLow, out.LowSSRC, transcode.WebRTCVideoPayloadType)
	}
	if audio {
		ac, err := listenRTP()
		if err != nil {
			l.stopLocked(s)
			return nil, 0, err
		}
		s.conns = append(s.conns, ac)
		out.AudioAddr = ac.LocalAddr().String()
		l.receive(ac, s.audio, out.AudioSSRC, transcode.WebRTCAudioPayloadType)
	}
	return out, s.gen, nil
}

// stop ends the receivers of broadcast generation gen, unless a newer
// broadcast (a reconnect overlapping the old one's flush) has replaced
// them; the tracks stay for the next broadcast.
func (l *lowLatency) stop(stream string, gen int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.streams[stream]; s != nil && s.gen == gen {
		l.stopLocked(s)
	}
}

func (l *lowLatency) stopLocked(s *llStream) {
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
	s.lowLive = false
}

// close ends everything (origin shutdown).
func (l *lowLatency) close() {
	l.mu.Lock()
	for _, s := range l.streams {
		l.stopLocked(s)
		_ = s.video.Close()
		_ = s.audio.Close()
		if s.videoLow != nil {
			_ = s.videoLow.Close()
		}
	}
	l.streams = map[string]*llStream{}
	l.mu.Unlock()
	l.wg.Wait()
}

func listenRTP() (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("low latency: listen for RTP: %w", err)
	}
	_ = c.SetReadBuffer(4 << 20) // a keyframe arrives as a burst
	return c, nil
}

// receive reads ffmpeg's RTP from c into t until c is closed. Packets of
// another SSRC or payload type (anything else that found the port) are
// dropped and counted.
func (l *lowLatency) receive(c *net.UDPConn, t *sfu.Track, ssrc uint32, pt uint8) {
	l.wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if err := p.Unmarshal(buf[:n]); err != nil || p.SSRC != ssrc || p.PayloadType != pt {
				l.m.rtpDropped.Inc()
				continue
			}
			p.Payload = append([]byte(nil), p.Payload...) // buf is reused
			if err := t.WriteRTP(&p); err != nil {
				return
			}
		}
	})
}

func randomSSRC() uint32 {
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		if v := binary.BigEndian.Uint32(b[:]); v != 0 {
			return v
		}
	}
}

// LowLatencySource returns the origin's low-latency tracks by stream (for
// the relay tree's root to serve to relay nodes), or nil when LowLatency
// is off.
func (o *Origin) LowLatencySource() interface {
	Tracks(stream string) []*sfu.Track
} {
	if o.ll == nil {
		return nil
	}
	return o.ll
}
