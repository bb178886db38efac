package manifest

import (
	"time"

	"github.com/canopylive/canopy/proto"
)

var t0 = time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC)

// seg is a media record of rendition r: sequence seq in discontinuity disc,
// starting at media time start (ms) and wall clock t0 + wall (ms).
func seg(r string, seq uint64, disc uint32, start, dur, wall int64) proto.Segment {
	return proto.Segment{
		Stream:          "demo",
		Broadcast:       "20261127T013000Z",
		Rendition:       r,
		Kind:            proto.KindMedia,
		Sequence:        seq,
		Discontinuity:   disc,
		Start:           time.Duration(start) * time.Millisecond,
		Duration:        time.Duration(dur) * time.Millisecond,
		ProgramDateTime: t0.Add(time.Duration(wall) * time.Millisecond),
		Length:          1000,
	}
}

// run returns n consecutive segments of rendition r from sequence seq,
// media time start and wall clock wall (ms), all of duration dur.
func run(r string, seq uint64, disc uint32, start, wall, dur int64, n int) []proto.Segment {
	var out []proto.Segment
	for i := range int64(n) {
		out = append(out, seg(r, seq+uint64(i), disc, start+i*dur, dur, wall+i*dur))
	}
	return out
}

var ladder = []Rendition{
	{Name: "480p", Width: 854, Height: 480, Bandwidth: 1_400_000, AverageBandwidth: 1_200_000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30},
	{Name: "1080p", Width: 1920, Height: 1080, Bandwidth: 6_000_000, AverageBandwidth: 5_000_000, Codecs: "avc1.640028,mp4a.40.2", FrameRate: 29.97},
	{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3_000_000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 25},
}
