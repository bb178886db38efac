package transcode

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// RTP payload types of the WebRTC outputs. They are fixed so that the
// receiver can declare them in its SDP without reading ffmpeg's.
const (
	WebRTCVideoPayloadType = 96  // H.264, packetization-mode=1
	WebRTCAudioPayloadType = 111 // Opus/48000/2
)

// Settings of the WebRTC outputs.
const (
	// WebRTCMaxHeight is the tallest rung the default WebRTC rung selection takes.
	WebRTCMaxHeight = 720
	// WebRTCAudioBitrate is the Opus bitrate in bits/s.
	WebRTCAudioBitrate = 96_000
	// WebRTCPacketSize caps each RTP packet (header included) in bytes, to
	// stay under the MTU once SRTP and the UDP/IP headers are added.
	WebRTCPacketSize = 1200
	// webrtcGOP is the keyframe interval: a viewer who joins (or loses a
	// keyframe) waits at most this long for a picture.
	webrtcGOP = time.Second
)

// WebRTCOutput asks BuildArgs for the low-latency RTP outputs: the picture
// of one ladder rung encoded again as H.264 constrained baseline (no
// B-frames, a keyframe every second, SPS/PPS before each), and the audio as
// Opus, each sent as plain RTP to a receiver on loopback. The decode and the
// scaling are shared with the ladder.
type WebRTCOutput struct {
	Rung      string // the ladder rung whose size is encoded; "" picks the default (see WebRTCRungFor)
	VideoAddr string // host:port of the video RTP receiver, e.g. "127.0.0.1:40000"; the host must be a loopback IP
	AudioAddr string // host:port of the audio RTP receiver (loopback IP); ignored without source audio
	// SSRCs of the video and audio RTP streams: non-zero, and different
	// from each other when there is audio.
	VideoSSRC, AudioSSRC uint32
	Bitrate              int // video bits/s; 0 = the rung's bitrate (required for a passthrough rung)
	// LowAddr, optional, asks for a second, smaller video layer for
	// viewers with less bandwidth: half the width and height at a quarter
	// of the bitrate (WebRTCLowLayerFor), encoded like the first from the
	// same picture, sent as RTP with LowSSRC to LowAddr (loopback). It is
	// left out when the WebRTC picture is under WebRTCLowMinHeight lines.
	LowAddr string
	LowSSRC uint32
}

// WebRTCLowMinHeight is the shortest WebRTC picture that gets a low layer
// (whose height is half of it): below it the two layers would differ too
// little to be worth an encoder.
const WebRTCLowMinHeight = 288

// webrtcLowMinBitrate is the least a low layer is given, bits/s.
const webrtcLowMinBitrate = 150_000

// WebRTCLowLayerFor reports whether a WebRTC video of size w×h at bitrate
// gets a low layer, and its size and bitrate: half the size (rounded down
// to even) at a quarter of the bitrate, at least 150 kbit/s.
func WebRTCLowLayerFor(w, h, bitrate int) (lw, lh, lbitrate int, ok bool) {
	if h < WebRTCLowMinHeight {
		return 0, 0, 0, false
	}
	return (w / 2) &^ 1, (h / 2) &^ 1, max(bitrate/4, webrtcLowMinBitrate), true
}

// WebRTCRungFor returns the rung whose picture the WebRTC video is encoded
// from. name "" picks the default: the tallest rung at most
// WebRTCMaxHeight lines tall (the first of equals), an encoded rung before a
// passthrough rung of the same height; failing that, the shortest encoded
// rung; failing that (a passthrough-only ladder), the passthrough rung. A
// passthrough rung is taken when it is the tallest (a 480p publisher, whose
// ladder is the source and 144p, gets 480p, not 144p); its WebRTC video
// then needs WebRTCOutput.Bitrate. A named rung that is not in the ladder
// is ErrBadParams.
//
// A passthrough rung has no scaled picture in the filter graph, so its
// WebRTC video is scaled from the decoded source instead; its Width and
// Height in the returned Rung are rounded down to even, the size the
// encoder gets. rungs are planned rungs (see Plan).
func WebRTCRungFor(rungs []Rung, name string) (Rung, error) {
	i, err := webrtcRungIndex(rungs, name)
	if err != nil {
		return Rung{}, err
	}
	return webrtcSized(rungs[i]), nil
}

// webrtcSized returns r with the size the WebRTC encoder gets: a
// passthrough rung's size rounded down to even (4:2:0), an encoded rung's as is.
func webrtcSized(r Rung) Rung {
	if r.Passthrough {
		r.Width, r.Height = r.Width&^1, r.Height&^1
	}
	return r
}

// webrtcRungIndex is WebRTCRungFor's choice as an index into rungs.
func webrtcRungIndex(rungs []Rung, name string) (int, error) {
	if len(rungs) == 0 {
		return -1, fmt.Errorf("%w: no rungs", ErrBadLadder)
	}
	if name != "" {
		for i, r := range rungs {
			if r.Name == name {
				return i, nil
			}
		}
		return -1, fmt.Errorf("%w: WebRTC rung %q is not in the ladder", ErrBadParams, name)
	}
	best, shortest := -1, -1
	for i, r := range rungs {
		if r.Height <= WebRTCMaxHeight && (best < 0 || r.Height > rungs[best].Height ||
			r.Height == rungs[best].Height && rungs[best].Passthrough && !r.Passthrough) {
			best = i
		}
		if r.Passthrough {
			continue
		}
		if shortest < 0 || r.Height < rungs[shortest].Height {
			shortest = i
		}
	}
	switch {
	case best >= 0:
		return best, nil
	case shortest >= 0:
		return shortest, nil
	}
	return 0, nil // only passthrough rungs
}

// webrtcPlan is a validated WebRTCOutput resolved against the ladder.
type webrtcPlan struct {
	rung          int // index into ArgsParams.Rungs
	width, height int
	bitrate       int
	level         string
	videoURL      string
	audioURL      string // "" without source audio
	videoSSRC     uint32
	audioSSRC     uint32
	low           *webrtcLowPlan // nil: no low layer
}

// webrtcLowPlan is the low video layer of a webrtcPlan.
type webrtcLowPlan struct {
	width, height int
	bitrate       int
	level         string
	url           string
	ssrc          uint32
}

// planWebRTC validates w for the (already validated) ladder of p.
func planWebRTC(w *WebRTCOutput, p ArgsParams) (webrtcPlan, error) {
	i, err := webrtcRungIndex(p.Rungs, w.Rung)
	if err != nil {
		return webrtcPlan{}, err
	}
	r := webrtcSized(p.Rungs[i])
	wp := webrtcPlan{rung: i, width: r.Width, height: r.Height, bitrate: w.Bitrate, videoSSRC: w.VideoSSRC}
	if r.Width < 2 || r.Height < 2 { // only a passthrough rung, unchecked by BuildArgs, can be
		return webrtcPlan{}, fmt.Errorf("%w: WebRTC passthrough rung %q has size %dx%d", ErrBadLadder, r.Name, p.Rungs[i].Width, p.Rungs[i].Height)
	}
	switch {
	case w.Bitrate < 0:
		return webrtcPlan{}, fmt.Errorf("%w: WebRTC bitrate %d", ErrBadParams, w.Bitrate)
	case w.Bitrate == 0 && r.Passthrough:
		return webrtcPlan{}, fmt.Errorf("%w: WebRTC rung %q is passthrough and has no bitrate: set WebRTCOutput.Bitrate", ErrBadParams, r.Name)
	case w.Bitrate == 0:
		wp.bitrate = r.VideoBitrate
	}
	if wp.level, err = h264Level(wp.width, wp.height, p.Source.FPS, webrtcMaxrate(wp.bitrate)); err != nil {
		return webrtcPlan{}, err
	}
	if w.VideoSSRC == 0 {
		return webrtcPlan{}, fmt.Errorf("%w: WebRTC video SSRC is 0", ErrBadParams)
	}
	if wp.videoURL, err = rtpURL(w.VideoAddr); err != nil {
		return webrtcPlan{}, fmt.Errorf("WebRTC video: %w", err)
	}
	if w.LowAddr != "" {
		if wp.low, err = planLowLayer(w, wp, p.Source.FPS); err != nil {
			return webrtcPlan{}, err
		}
	}
	if !p.Source.HasAudio {
		return wp, nil
	}
	switch {
	case w.AudioSSRC == 0:
		return webrtcPlan{}, fmt.Errorf("%w: WebRTC audio SSRC is 0", ErrBadParams)
	case w.AudioSSRC == w.VideoSSRC || wp.low != nil && w.AudioSSRC == w.LowSSRC:
		return webrtcPlan{}, fmt.Errorf("%w: WebRTC audio and video share SSRC %d", ErrBadParams, w.AudioSSRC)
	}
	wp.audioSSRC = w.AudioSSRC
	if wp.audioURL, err = rtpURL(w.AudioAddr); err != nil {
		return webrtcPlan{}, fmt.Errorf("WebRTC audio: %w", err)
	}
	return wp, nil
}

// planLowLayer validates w's low layer for the top layer wp; nil when the
// top layer is too small to have one.
func planLowLayer(w *WebRTCOutput, wp webrtcPlan, fps float64) (*webrtcLowPlan, error) {
	lw, lh, lb, ok := WebRTCLowLayerFor(wp.width, wp.height, wp.bitrate)
	if !ok {
		return nil, nil
	}
	switch {
	case w.LowSSRC == 0:
		return nil, fmt.Errorf("%w: WebRTC low layer SSRC is 0", ErrBadParams)
	case w.LowSSRC == w.VideoSSRC:
		return nil, fmt.Errorf("%w: WebRTC video layers share SSRC %d", ErrBadParams, w.LowSSRC)
	}
	lp := &webrtcLowPlan{width: lw, height: lh, bitrate: lb, ssrc: w.LowSSRC}
	var err error
	if lp.level, err = h264Level(lw, lh, fps, webrtcMaxrate(lb)); err != nil {
		return nil, err
	}
	if lp.url, err = rtpURL(w.LowAddr); err != nil {
		return nil, fmt.Errorf("WebRTC low layer: %w", err)
	}
	return lp, nil
}

// rtpURL checks that addr is "ip:port" with a loopback IP (the RTP leaves
// ffmpeg unencrypted, so it must not leave the machine) and returns ffmpeg's
// output URL for it.
func rtpURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%w: RTP address %q: %v", ErrBadParams, addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return "", fmt.Errorf("%w: RTP address %q: the host must be an IP address", ErrBadParams, addr)
	}
	ip = ip.Unmap()
	if !ip.IsLoopback() {
		return "", fmt.Errorf("%w: RTP address %q is not on loopback (RTP is sent unencrypted)", ErrBadParams, addr)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("%w: RTP address %q: bad port", ErrBadParams, addr)
	}
	return "rtp://" + net.JoinHostPort(ip.String(), strconv.FormatUint(n, 10)) + "?pkt_size=" + strconv.Itoa(WebRTCPacketSize), nil
}

// webrtcMaxrate is the VBV rate of the WebRTC video: 110 % of the target.
func webrtcMaxrate(bitrate int) int { return bitrate / 10 * 11 }

// h264Levels are the H.264 levels the WebRTC video may declare (Table A-1:
// max macroblocks per frame, max macroblocks per second, max bitrate in
// kbit/s for the Baseline profile). It starts at 3.1, the level browsers
// offer (profile-level-id 42e01f), so up to 720p30 the stream matches it.
var h264Levels = [...]struct {
	name           string
	frameMBs, mbps int
	maxKbps        int
}{
	{"3.1", 3600, 108_000, 14_000},
	{"3.2", 5120, 216_000, 20_000},
	{"4.0", 8192, 245_760, 20_000},
	{"4.1", 8192, 245_760, 50_000},
	{"4.2", 8704, 522_240, 50_000},
	{"5.0", 22_080, 589_824, 135_000},
	{"5.1", 36_864, 983_040, 240_000},
	{"5.2", 36_864, 2_073_600, 240_000},
}

// h264Level returns the lowest level (from 3.1 up) that fits the size,
// frame rate and maximum bitrate.
func h264Level(width, height int, fps float64, maxrate int) (string, error) {
	wMB, hMB := (width+15)/16, (height+15)/16
	frame := wMB * hMB
	for _, l := range h264Levels {
		if frame <= l.frameMBs && wMB*wMB <= 8*l.frameMBs && hMB*hMB <= 8*l.frameMBs &&
			float64(frame)*fps <= float64(l.mbps) && maxrate <= l.maxKbps*1000 {
			return l.name, nil
		}
	}
	return "", fmt.Errorf("%w: WebRTC video %dx%d at %v fps and %d b/s exceeds H.264 level %s", ErrBadParams,
		width, height, fps, maxrate, h264Levels[len(h264Levels)-1].name)
}

// webrtcArgs are the WebRTC outputs, appended after the ladder's: the video
// from the filter graph's [w0], then (with source audio) the audio. Each is
// its own RTP output, since ffmpeg's RTP muxer carries one stream.
//
// The video is x264 constrained baseline with -tune zerolatency (no
// lookahead, no frame threading delay), no B-frames, a 1 s GOP (-g and
// keyframes forced on a 1 s clock, no scene cuts) with SPS/PPS repeated
// before every keyframe, and a constrained bitrate (maxrate 110 %, a
// buffer of half a second at maxrate) so bursts fit a real-time path.
//
// The audio is Opus at 48 kHz, stereo, in 20 ms frames with libopus's
// low-delay mode. aresample=async=1 gives it sample-exact timestamps: the
// FLV's are whole milliseconds, and passed on they make the RTP timestamps
// step 949-988 instead of 960 per frame, which a receiver's jitter buffer
// takes for gaps and overlaps. (It ignores jitter under 0.1 s and fills
// real gaps in the source audio with silence.)
func webrtcArgs(wp webrtcPlan, p ArgsParams) []string {
	a := webrtcLayerArgs(webrtcTapLabel, wp.bitrate, wp.level, p)
	a = append(a, rtpMuxArgs(WebRTCVideoPayloadType, wp.videoSSRC, wp.videoURL)...)
	if l := wp.low; l != nil {
		a = append(a, webrtcLayerArgs(webrtcLowLabel, l.bitrate, l.level, p)...)
		a = append(a, rtpMuxArgs(WebRTCVideoPayloadType, l.ssrc, l.url)...)
	}
	if wp.audioURL == "" {
		return a
	}
	a = append(a,
		"-map", "0:a:0",
		"-af", "aresample=async=1",
		"-c:a", "libopus", "-ar", "48000", "-ac", "2", "-b:a", strconv.Itoa(WebRTCAudioBitrate), "-application", "lowdelay",
	)
	return append(a, rtpMuxArgs(WebRTCAudioPayloadType, wp.audioSSRC, wp.audioURL)...)
}

// webrtcLayerArgs are one WebRTC video layer's encoder options (see
// webrtcArgs), reading the filter graph output label.
func webrtcLayerArgs(label string, bitrate int, level string, p ArgsParams) []string {
	gop := strconv.Itoa(GOPFrames(webrtcGOP, p.Source.FPS))
	maxrate := webrtcMaxrate(bitrate)
	a := []string{
		"-map", label,
		"-c:v", "libx264", "-preset", p.Preset, "-tune", "zerolatency",
		"-profile:v", "baseline", "-level:v", level, "-pix_fmt", "yuv420p",
		"-b:v", strconv.Itoa(bitrate), "-maxrate", strconv.Itoa(maxrate), "-bufsize", strconv.Itoa(maxrate / 2),
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-bf", "0",
		"-x264-params", "scenecut=0:open-gop=0:repeat-headers=1",
		"-force_key_frames", "expr:gte(t,n_forced*" + strconv.FormatFloat(webrtcGOP.Seconds(), 'f', -1, 64) + ")",
	}
	if p.Threads > 0 {
		a = append(a, "-threads", strconv.Itoa(p.Threads))
	}
	return a
}

// rtpMuxArgs are the RTP muxer options and URL of one output. ffmpeg's
// -ssrc is a signed 32-bit option, so the SSRC is passed as the int32 with
// the same bits. RTCP sender reports are not sent (skip_rtcp): ffmpeg would
// send them to port+1, a port the receiver did not ask for. Packets are
// flushed as soon as they are muxed, with no muxing delay.
func rtpMuxArgs(pt int, ssrc uint32, url string) []string {
	return []string{
		"-f", "rtp", "-payload_type", strconv.Itoa(pt), "-ssrc", strconv.FormatInt(int64(int32(ssrc)), 10),
		"-rtpflags", "skip_rtcp", "-flush_packets", "1", "-max_delay", "0", "-muxdelay", "0",
		url,
	}
}

// Filter graph labels of the WebRTC video: the encoder of the first layer
// reads [w0], the low layer's [w1]; with a low layer the tapped picture is
// [wt], split into [w0] and the downscaler of [w1].
const (
	webrtcTapLabel   = "[w0]"
	webrtcLowLabel   = "[w1]"
	webrtcSplitLabel = "[wt]"
)
