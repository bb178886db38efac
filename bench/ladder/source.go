package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"time"

	flv "github.com/yutopp/go-flv"
	flvtag "github.com/yutopp/go-flv/tag"

	"github.com/canopylive/canopy/transcode"
)

// ErrSource means the source FLV is missing something the benchmark needs.
var ErrSource = errors.New("ladder bench: unusable source")

// Source geometry (the acceptance point: a 1080p30 source).
const (
	srcWidth, srcHeight, srcFPS = 1920, 1080, 30
	srcGOP                      = 60 // 2 s at 30 fps, the segment duration
)

// sourceArgs is the ffmpeg argv generating the source: testsrc2 + a sine
// tone, libx264 (no B-frames, a keyframe every 2 s, 6 Mb/s like a typical
// 1080p broadcaster) and AAC 48 kHz stereo, in FLV.
func sourceArgs(path string, d time.Duration) []string {
	gop := strconv.Itoa(srcGOP)
	return []string{
		"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", srcWidth, srcHeight, srcFPS),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.FormatFloat(d.Seconds(), 'f', 3, 64),
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
		"-b:v", "6000k", "-maxrate", "6000k", "-bufsize", "6000k",
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-bf", "0",
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
		"-f", "flv", path,
	}
}

// ensureSource generates the source at path unless reuse is set and the file
// already exists. It writes to a temporary name first, so that an
// interrupted generation never leaves a truncated file to be reused.
func ensureSource(ctx context.Context, ffmpeg, path string, d time.Duration, reuse bool) (generated bool, err error) {
	if reuse {
		if _, err := os.Stat(path); err == nil {
			return false, nil
		}
	}
	tmp := path + ".part"
	cmd := exec.CommandContext(ctx, ffmpeg, sourceArgs(tmp, d)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return false, fmt.Errorf("generating the source: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("generating the source: %w", err)
	}
	return true, nil
}

// sourceInfo is what the benchmark needs to know about the source FLV.
type sourceInfo struct {
	transcode.Source
	VideoFrames int
	Duration    time.Duration // VideoFrames / FPS
	Bytes       int
}

// decodeFLV decodes every tag of an in-memory FLV file with go-flv and
// passes it to fn; the tag's payload is drained afterwards if fn left it.
// bytes.Reader always fills a read, which go-flv's tag decoder needs.
func decodeFLV(data []byte, fn func(*flvtag.FlvTag) error) error {
	dec, err := flv.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: FLV header: %v", ErrSource, err)
	}
	for {
		var t flvtag.FlvTag
		if err := dec.Decode(&t); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%w: decoding FLV: %v", ErrSource, err)
		}
		err := fn(&t)
		t.Close()
		if err != nil {
			return err
		}
	}
}

// probeSource reads the size and frame rate from onMetaData and counts the
// video frames and AAC audio of an FLV file.
func probeSource(data []byte) (sourceInfo, error) {
	info := sourceInfo{Bytes: len(data)}
	err := decodeFLV(data, func(t *flvtag.FlvTag) error {
		switch d := t.Data.(type) {
		case *flvtag.ScriptData:
			meta, ok := d.Objects["onMetaData"]
			if !ok {
				return nil
			}
			w, _ := meta["width"].(float64)
			h, _ := meta["height"].(float64)
			fps, _ := meta["framerate"].(float64)
			info.Width, info.Height, info.FPS = int(w), int(h), fps
		case *flvtag.VideoData:
			if d.CodecID == flvtag.CodecIDAVC && d.AVCPacketType == flvtag.AVCPacketTypeNALU {
				info.VideoFrames++
			}
		case *flvtag.AudioData:
			if d.SoundFormat == flvtag.SoundFormatAAC {
				info.HasAudio = true
			}
		}
		return nil
	})
	if err != nil {
		return info, err
	}
	if info.Width <= 0 || info.Height <= 0 || info.FPS <= 0 || math.IsNaN(info.FPS) {
		return info, fmt.Errorf("%w: no usable onMetaData (width %d, height %d, framerate %v)", ErrSource, info.Width, info.Height, info.FPS)
	}
	if info.VideoFrames == 0 {
		return info, fmt.Errorf("%w: no H.264 frames", ErrSource)
	}
	info.Duration = time.Duration(float64(info.VideoFrames) / info.FPS * float64(time.Second))
	return info, nil
}
