package transcode

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Defaults used when ArgsParams leaves a field zero.
const (
	DefaultSegmentDuration = 2 * time.Second
	DefaultPreset          = "veryfast"
)

// movflags makes the mp4 muxer write CMAF-style fragmented MP4 to a pipe:
// ftyp+moov first (empty_moov), then one moof+mdat per video keyframe
// (frag_keyframe), with offsets relative to the moof (default_base_moof).
const movflags = "cmaf+frag_keyframe+empty_moov+default_base_moof"

// ArgsParams are the inputs of BuildArgs.
type ArgsParams struct {
	Rungs           []Rung        // already planned
	Source          Source        //
	SegmentDuration time.Duration // default 2s
	Preset          string        // x264 preset, default "veryfast"
	Threads         int           // 0 = ffmpeg default
	WebRTC          *WebRTCOutput // nil: no WebRTC output (the ladder only)
}

// OutputFD returns the child file descriptor rendition i is written to.
func OutputFD(i int) int { return 3 + i }

// ProgressFD returns the child file descriptor -progress is written to.
func ProgressFD(rungs int) int { return 3 + rungs }

// GOPFrames returns the GOP length in frames: segment duration × frame rate, rounded, at least 1.
func GOPFrames(seg time.Duration, fps float64) int {
	g := int(math.Round(seg.Seconds() * fps))
	if g < 1 {
		g = 1
	}
	return g
}

// BuildArgs returns ffmpeg's argv (without the program name) for a planned
// ladder. FLV is read from stdin; rung i is written to "pipe:<3+i>" and the
// -progress report to "pipe:<3+len(Rungs)>". With WebRTC set, the
// low-latency RTP outputs follow the ladder's (see webrtcArgs); the ladder
// outputs are the same except for one more split in the filter graph. It is
// a pure function.
func BuildArgs(p ArgsParams) ([]string, error) {
	if err := p.Source.validate(); err != nil {
		return nil, err
	}
	if len(p.Rungs) == 0 {
		return nil, fmt.Errorf("%w: no rungs", ErrBadLadder)
	}
	if p.SegmentDuration == 0 {
		p.SegmentDuration = DefaultSegmentDuration
	}
	if p.SegmentDuration < 100*time.Millisecond || p.SegmentDuration > time.Minute {
		return nil, fmt.Errorf("%w: segment duration %v", ErrBadParams, p.SegmentDuration)
	}
	if p.Preset == "" {
		p.Preset = DefaultPreset
	}
	if strings.ContainsAny(p.Preset, ":= \t\n") {
		return nil, fmt.Errorf("%w: preset %q", ErrBadParams, p.Preset)
	}
	if p.Threads < 0 {
		return nil, fmt.Errorf("%w: threads %d", ErrBadParams, p.Threads)
	}
	for _, r := range p.Rungs {
		if r.Passthrough {
			continue
		}
		if r.Width <= 0 || r.Height <= 0 || r.Width%2 != 0 || r.Height%2 != 0 || r.VideoBitrate <= 0 {
			return nil, fmt.Errorf("%w: rung %q %dx%d %d b/s (plan the ladder first)", ErrBadLadder, r.Name, r.Width, r.Height, r.VideoBitrate)
		}
	}

	var tap *webrtcTap
	var wp webrtcPlan
	if p.WebRTC != nil {
		var err error
		if wp, err = planWebRTC(p.WebRTC, p); err != nil {
			return nil, err
		}
		tap = &webrtcTap{rung: wp.rung, width: wp.width, height: wp.height}
		if wp.low != nil {
			tap.lowWidth, tap.lowHeight = wp.low.width, wp.low.height
		}
	}

	args := []string{"-hide_banner", "-nostats", "-loglevel", "level+info"}
	if p.WebRTC != nil {
		// Low latency: slice-threaded decoding (frame threading holds a
		// frame per thread) and low-delay decoding. Not -fflags nobuffer:
		// with a video-only FLV on a pipe the demuxer then yields no frames
		// at all (ffmpeg 5.1; TestTranscodeWebRTCVideoOnly).
		args = append(args, "-flags", "low_delay", "-thread_type", "slice")
	}
	args = append(args, "-f", "flv", "-i", "pipe:0")
	if fc := filterGraphTap(p.Rungs, p.Source.Height, tap); fc != "" {
		args = append(args, "-filter_complex", fc)
	}
	gop := strconv.Itoa(GOPFrames(p.SegmentDuration, p.Source.FPS))
	segSec := strconv.FormatFloat(p.SegmentDuration.Seconds(), 'f', -1, 64)
	enc := 0
	for i, r := range p.Rungs {
		if r.Passthrough {
			args = append(args, "-map", "0:v:0")
		} else {
			args = append(args, "-map", "[v"+strconv.Itoa(enc)+"]")
			enc++
		}
		if p.Source.HasAudio {
			args = append(args, "-map", "0:a:0?")
		}
		if r.Passthrough {
			args = append(args, "-c:v", "copy")
		} else {
			args = append(args, x264Args(r, p, gop, segSec)...)
		}
		if p.Source.HasAudio {
			args = append(args, "-c:a", "copy")
		}
		args = append(args, "-f", "mp4", "-movflags", movflags, "pipe:"+strconv.Itoa(OutputFD(i)))
	}
	if tap != nil {
		args = append(args, webrtcArgs(wp, p)...)
	}
	args = append(args, "-progress", "pipe:"+strconv.Itoa(ProgressFD(len(p.Rungs))))
	return args, nil
}

// filterGraph scales the decoded source down a cascade, tallest rung
// first, each rung from the one above it (1080 → 720 → 480 → 144), so every
// scaler reads the smallest picture it can; labels are [v0], [v1], ... in
// encoded-rung order. Steps of at most 2× use bilinear filtering, larger
// steps area averaging, which does not alias. It is "" when nothing is
// encoded.
func filterGraph(rungs []Rung, srcHeight int) string { return filterGraphTap(rungs, srcHeight, nil) }

// webrtcTap asks filterGraphTap for the WebRTC encoder's picture, labelled [w0].
type webrtcTap struct {
	rung          int // index into the rungs of the rung whose picture is taken
	width, height int // a passthrough rung's picture: the source scaled to this size
	// The low layer's size; zero without one. With it, the tapped picture
	// is split once more and one branch is scaled to this size as [w1].
	lowWidth, lowHeight int
}

// label is the graph output the tapped picture gets.
func (t *webrtcTap) label() string {
	if t.lowHeight > 0 {
		return webrtcSplitLabel
	}
	return webrtcTapLabel
}

// lowChain splits the tapped picture into the two layers' inputs; "" without a low layer.
func (t *webrtcTap) lowChain() string {
	if t == nil || t.lowHeight == 0 {
		return ""
	}
	return webrtcSplitLabel + "split=2" + webrtcTapLabel + "[wl];[wl]scale=" + strconv.Itoa(t.lowWidth) + ":" +
		strconv.Itoa(t.lowHeight) + ":flags=area" + webrtcLowLabel
}

// filterGraphTap is filterGraph plus, with tap, one more output [w0]: the
// tapped encoded rung's scaled picture split once more (its split gets a
// third branch, or a last rung gets a split=2), or, for a passthrough rung,
// which has no scaler in the cascade, the source scaled to the tap's size by
// a chain of its own (the source is still decoded once; ffmpeg feeds the
// decoded frames to both chains).
func filterGraphTap(rungs []Rung, srcHeight int, tap *webrtcTap) string {
	var enc []Rung
	tapEnc, passTap := -1, false // tapped encoded-rung index
	for i, r := range rungs {
		if tap != nil && tap.rung == i {
			if r.Passthrough {
				passTap = true
			} else {
				tapEnc = len(enc)
			}
		}
		if !r.Passthrough {
			enc = append(enc, r)
		}
	}
	pass := ""
	if passTap {
		pass = "[0:v:0]scale=" + strconv.Itoa(tap.width) + ":" + strconv.Itoa(tap.height) + ":flags=bilinear" + tap.label()
	}
	if len(enc) == 0 {
		if low := tap.lowChain(); low != "" {
			return pass + ";" + low
		}
		return pass
	}
	order := make([]int, len(enc)) // encoded-rung indexes, tallest first
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return enc[order[a]].Height > enc[order[b]].Height })
	var b strings.Builder
	in, inHeight := "[0:v:0]", srcHeight
	for step, k := range order {
		r := enc[k]
		flags := "bilinear"
		if inHeight > 2*r.Height {
			flags = "area"
		}
		if step > 0 {
			b.WriteString(";")
		}
		b.WriteString(in + "scale=" + strconv.Itoa(r.Width) + ":" + strconv.Itoa(r.Height) + ":flags=" + flags)
		outs := []string{"[v" + strconv.Itoa(k) + "]"} // the rung, the tap, the next step
		if k == tapEnc {
			outs = append(outs, tap.label())
		}
		last := step == len(order)-1
		if !last {
			outs = append(outs, "[c"+strconv.Itoa(step)+"]")
		}
		if len(outs) > 1 {
			b.WriteString(",split=" + strconv.Itoa(len(outs)))
		}
		b.WriteString(strings.Join(outs, ""))
		if last {
			break
		}
		in, inHeight = outs[len(outs)-1], r.Height
	}
	if pass != "" {
		b.WriteString(";" + pass)
	}
	if low := tap.lowChain(); low != "" {
		b.WriteString(";" + low)
	}
	return b.String()
}

// x264Args are the encoder options of one rung: constrained VBR (maxrate
// 110 % of the target, a buffer of one segment at maxrate), a fixed GOP of
// one segment (-g, -keyint_min, and keyframes forced on the segment clock so
// every rung cuts at the same instants), no scene-cut keyframes, no B-frames.
func x264Args(r Rung, p ArgsParams, gop, segSec string) []string {
	profile := "main"
	if r.Height >= 720 {
		profile = "high"
	}
	maxrate := r.VideoBitrate / 10 * 11
	bufsize := int(float64(maxrate) * p.SegmentDuration.Seconds())
	a := []string{
		"-c:v", "libx264", "-preset", p.Preset, "-profile:v", profile, "-pix_fmt", "yuv420p",
		"-b:v", strconv.Itoa(r.VideoBitrate), "-maxrate", strconv.Itoa(maxrate), "-bufsize", strconv.Itoa(bufsize),
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-bf", "0",
		// scenecut is also set through x264 itself: how -sc_threshold maps
		// onto x264 has changed between ffmpeg versions.
		"-x264-params", "scenecut=0:open-gop=0",
		"-force_key_frames", "expr:gte(t,n_forced*" + segSec + ")",
	}
	if p.Threads > 0 {
		a = append(a, "-threads", strconv.Itoa(p.Threads))
	}
	return a
}
