package origin

import (
	"bytes"
	"fmt"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/avc"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// videoInfo is what the origin learns from an AVC decoder configuration
// record (the payload of an FLV AVC sequence header).
type videoInfo struct {
	Width, Height int
	FPS           float64 // 0 when the SPS has no timing information
}

// maxConfigSize bounds codec configuration records; real ones are < 1 KiB.
const maxConfigSize = 64 * 1024

// parseAVCConfig decodes an AVCDecoderConfigurationRecord and its first SPS.
func parseAVCConfig(b []byte) (vi videoInfo, err error) {
	defer func() {
		// mp4ff's bit readers are not hardened against every malformed
		// input; a broadcaster's bytes must never take the origin down.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: AVC config: %v", ErrBadCodecConfig, r)
		}
	}()
	if len(b) < 7 || len(b) > maxConfigSize {
		return vi, fmt.Errorf("%w: AVC config of %d bytes", ErrBadCodecConfig, len(b))
	}
	rec, err := avc.DecodeAVCDecConfRec(b)
	if err != nil {
		return vi, fmt.Errorf("%w: %w", ErrBadCodecConfig, err)
	}
	if len(rec.SPSnalus) == 0 {
		return vi, fmt.Errorf("%w: AVC config has no SPS", ErrBadCodecConfig)
	}
	// mediacommon's SPS parser, not mp4ff's: fuzzing found SPS bytes that
	// keep mp4ff's parser busy for tens of seconds.
	var sps h264.SPS
	if err := sps.Unmarshal(rec.SPSnalus[0]); err != nil {
		return vi, fmt.Errorf("%w: SPS: %w", ErrBadCodecConfig, err)
	}
	vi.Width, vi.Height = sps.Width(), sps.Height()
	if vi.Width < 16 || vi.Height < 16 || vi.Width > 8192 || vi.Height > 8192 {
		return vi, fmt.Errorf("%w: picture size %dx%d", ErrBadCodecConfig, vi.Width, vi.Height)
	}
	if fps := sps.FPS(); fps >= 1 && fps <= 240 {
		vi.FPS = fps
	}
	return vi, nil
}

// audioInfo is what the origin learns from an AAC AudioSpecificConfig.
type audioInfo struct {
	ObjectType byte
	SampleRate int
	Channels   int
}

// parseAACConfig decodes an AudioSpecificConfig (the payload of an FLV AAC
// sequence header).
func parseAACConfig(b []byte) (ai audioInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: AAC config: %v", ErrBadCodecConfig, r)
		}
	}()
	if len(b) < 2 || len(b) > maxConfigSize {
		return ai, fmt.Errorf("%w: AAC config of %d bytes", ErrBadCodecConfig, len(b))
	}
	asc, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(b))
	if err != nil {
		return ai, fmt.Errorf("%w: %w", ErrBadCodecConfig, err)
	}
	return audioInfo{ObjectType: asc.ObjectType, SampleRate: asc.SamplingFrequency, Channels: int(asc.ChannelConfiguration)}, nil
}
