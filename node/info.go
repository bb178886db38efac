package node

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// Rendition describes one rung of a stream's ladder (mirrors treepb.Rendition).
type Rendition struct {
	Name          string
	Width, Height int
	Codecs        string
	FrameRate     float64
	Bandwidth     int // peak bits/s
}

// StreamInfo describes the current broadcast of a stream (mirrors
// treepb.StreamInfo). It steers playlists only; segments are verified on
// their own.
type StreamInfo struct {
	Stream          string
	Broadcast       string
	Renditions      []Rendition
	Ended           bool
	SegmentDuration time.Duration
}

// maxRenditions bounds the ladder a StreamInfo may describe.
const maxRenditions = 32

// Validate checks names and ranges.
func (i StreamInfo) Validate() error {
	if !proto.ValidName(i.Stream) || !proto.ValidName(i.Broadcast) {
		return fmt.Errorf("%w: stream %q broadcast %q", ErrBadInfo, i.Stream, i.Broadcast)
	}
	if len(i.Renditions) > maxRenditions {
		return fmt.Errorf("%w: %d renditions", ErrBadInfo, len(i.Renditions))
	}
	if i.SegmentDuration < 0 || i.SegmentDuration > time.Hour {
		return fmt.Errorf("%w: segment duration %v", ErrBadInfo, i.SegmentDuration)
	}
	seen := map[string]bool{}
	for _, r := range i.Renditions {
		if !proto.ValidName(r.Name) || seen[r.Name] {
			return fmt.Errorf("%w: rendition %q", ErrBadInfo, r.Name)
		}
		seen[r.Name] = true
		if r.Width < 0 || r.Height < 0 || r.Bandwidth < 0 || math.IsNaN(r.FrameRate) || r.FrameRate < 0 || r.FrameRate > 1000 {
			return fmt.Errorf("%w: rendition %q ranges", ErrBadInfo, r.Name)
		}
	}
	return nil
}

// hasRendition reports whether the ladder names r (an empty ladder allows all).
func (i StreamInfo) hasRendition(r string) bool {
	if len(i.Renditions) == 0 {
		return true
	}
	for _, x := range i.Renditions {
		if x.Name == r {
			return true
		}
	}
	return false
}

func (i StreamInfo) equal(o StreamInfo) bool {
	return i.Stream == o.Stream && i.Broadcast == o.Broadcast && i.Ended == o.Ended &&
		i.SegmentDuration == o.SegmentDuration && slices.Equal(i.Renditions, o.Renditions)
}

// toPB converts to the wire form.
func (i StreamInfo) toPB() *treepb.StreamInfo {
	pb := &treepb.StreamInfo{
		Stream: i.Stream, Broadcast: i.Broadcast, Ended: i.Ended,
		SegmentDurationMs: uint32(i.SegmentDuration.Milliseconds()),
	}
	for _, r := range i.Renditions {
		pb.Renditions = append(pb.Renditions, &treepb.Rendition{
			Name: r.Name, Width: uint32(r.Width), Height: uint32(r.Height), Codecs: r.Codecs,
			FrameRate: r.FrameRate, Bandwidth: uint64(r.Bandwidth),
		})
	}
	return pb
}

// infoFromPB converts from the wire form and validates.
func infoFromPB(pb *treepb.StreamInfo) (StreamInfo, error) {
	if pb == nil {
		return StreamInfo{}, fmt.Errorf("%w: empty", ErrBadInfo)
	}
	if len(pb.Renditions) > maxRenditions {
		return StreamInfo{}, fmt.Errorf("%w: %d renditions", ErrBadInfo, len(pb.Renditions))
	}
	i := StreamInfo{
		Stream: pb.Stream, Broadcast: pb.Broadcast, Ended: pb.Ended,
		SegmentDuration: time.Duration(pb.SegmentDurationMs) * time.Millisecond,
	}
	for _, r := range pb.Renditions {
		if r == nil || r.Width > math.MaxInt32 || r.Height > math.MaxInt32 || r.Bandwidth > math.MaxInt32 {
			return StreamInfo{}, fmt.Errorf("%w: rendition out of range", ErrBadInfo)
		}
		i.Renditions = append(i.Renditions, Rendition{
			Name: r.Name, Width: int(r.Width), Height: int(r.Height), Codecs: r.Codecs,
			FrameRate: r.FrameRate, Bandwidth: int(r.Bandwidth),
		})
	}
	return i, i.Validate()
}
