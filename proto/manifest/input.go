package manifest

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/canopylive/canopy/proto"
)

// Errors returned by this package; the reason is wrapped with %w.
var (
	ErrNoRenditions      = errors.New("manifest: no renditions")
	ErrInvalidRendition  = errors.New("manifest: invalid rendition")
	ErrInvalidSegments   = errors.New("manifest: invalid segment list")
	ErrNoSegments        = errors.New("manifest: no segments")
	ErrRenditionMismatch = errors.New("manifest: renditions do not line up")
	ErrInvalidParams     = errors.New("manifest: invalid parameters")
)

// Rendition describes one rung of the ladder.
type Rendition struct {
	Name             string  // folder and DASH Representation id; see proto.ValidName
	Width, Height    int     // pixels; 0 when unknown (RESOLUTION is then left out)
	Bandwidth        int     // peak bits/s, > 0
	AverageBandwidth int     // bits/s; 0 when unknown
	Codecs           string  // RFC 6381 list, e.g. "avc1.640028,mp4a.40.2"; may be empty
	FrameRate        float64 // frames/s; 0 when unknown
}

func (r Rendition) validate() error {
	switch {
	case !proto.ValidName(r.Name):
		return fmt.Errorf("%w: name %q does not match [A-Za-z0-9_-]{1,64}", ErrInvalidRendition, r.Name)
	case r.Bandwidth <= 0 || r.AverageBandwidth < 0:
		return fmt.Errorf("%w: %s: bandwidth %d, average %d", ErrInvalidRendition, r.Name, r.Bandwidth, r.AverageBandwidth)
	case r.Width < 0 || r.Height < 0 || (r.Width == 0) != (r.Height == 0):
		return fmt.Errorf("%w: %s: size %dx%d", ErrInvalidRendition, r.Name, r.Width, r.Height)
	case math.IsNaN(r.FrameRate) || math.IsInf(r.FrameRate, 0) || r.FrameRate < 0 || r.FrameRate > 1000:
		return fmt.Errorf("%w: %s: frame rate %v", ErrInvalidRendition, r.Name, r.FrameRate)
	case !validCodecs(r.Codecs):
		return fmt.Errorf("%w: %s: codecs %q", ErrInvalidRendition, r.Name, r.Codecs)
	}
	return nil
}

// validCodecs allows the characters RFC 6381 codec lists use in practice,
// which keeps quotes and line breaks out of the manifests.
func validCodecs(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == ',', c == '-', c == '_', c == '+':
		default:
			return false
		}
	}
	return true
}

func validateRenditions(rs []Rendition) error {
	if len(rs) == 0 {
		return ErrNoRenditions
	}
	seen := make(map[string]bool, len(rs))
	for _, r := range rs {
		if err := r.validate(); err != nil {
			return err
		}
		if seen[r.Name] {
			return fmt.Errorf("%w: duplicate name %q", ErrInvalidRendition, r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

// checkSegments checks a rendition's segment list: valid media records of
// one stream, broadcast and rendition, consecutive sequence numbers,
// discontinuity numbers that never decrease, and Start increasing within a
// discontinuity.
func checkSegments(segs []proto.Segment) error {
	for i := range segs {
		s := &segs[i]
		if err := s.Validate(); err != nil {
			return fmt.Errorf("%w: segment %d: %w", ErrInvalidSegments, i, err)
		}
		if s.Kind != proto.KindMedia {
			return fmt.Errorf("%w: segment %d is %v, want media", ErrInvalidSegments, i, s.Kind)
		}
		if i == 0 {
			continue
		}
		p := &segs[i-1]
		switch {
		case s.Stream != p.Stream || s.Broadcast != p.Broadcast || s.Rendition != p.Rendition:
			return fmt.Errorf("%w: segment %d is %s/%s/%s after %s/%s/%s", ErrInvalidSegments, i,
				s.Stream, s.Broadcast, s.Rendition, p.Stream, p.Broadcast, p.Rendition)
		case p.Sequence == math.MaxUint64 || s.Sequence != p.Sequence+1:
			return fmt.Errorf("%w: sequence %d follows %d", ErrInvalidSegments, s.Sequence, p.Sequence)
		case s.Discontinuity < p.Discontinuity:
			return fmt.Errorf("%w: discontinuity %d follows %d", ErrInvalidSegments, s.Discontinuity, p.Discontinuity)
		case s.Discontinuity == p.Discontinuity && s.Start <= p.Start:
			return fmt.Errorf("%w: segment %d starts at %v, not after %v", ErrInvalidSegments, s.Sequence, s.Start, p.Start)
		}
	}
	return nil
}

// initFileName is the init segment of discontinuity d.
func initFileName(d uint32) string {
	return proto.Segment{Kind: proto.KindInit, Sequence: uint64(d), Discontinuity: d}.FileName()
}

// roundMS rounds a non-negative duration to whole milliseconds (half up).
func roundMS(d time.Duration) int64 {
	return int64((d + time.Millisecond/2) / time.Millisecond)
}
