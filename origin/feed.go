package origin

import (
	"time"

	"github.com/canopylive/canopy/proto"
)

// Feed receives every sealed segment, in order, as soon as it is sealed:
// the relay tree's root node implements it. Calls come from the sealing
// goroutine of each stream and must not block for long.
type Feed interface {
	Segment(d Description, rec proto.Segment, data []byte)
	// Ended says a broadcast ended (its grace period passed).
	Ended(d Description)
}

// Description is what a relay needs to know about a broadcast besides its
// segments.
type Description struct {
	Stream, Broadcast string
	Renditions        []DescribedRendition
	SegmentDuration   time.Duration
	Ended             bool
}

// DescribedRendition is one rung with its declared bandwidth.
type DescribedRendition struct {
	Name          string
	Width, Height int
	Codecs        string
	FrameRate     float64
	Bandwidth     int // declared bits/s (fixed at the first segment); the configured bitrate before it
}

// describe builds the Description of b.
func (o *Origin) describe(b *broadcast) Description {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := Description{Stream: b.stream, Broadcast: b.id, SegmentDuration: o.p.Transcode.SegmentDuration, Ended: b.ended}
	for _, r := range b.renditions {
		peak, _ := b.bandwidth(r.Name)
		d.Renditions = append(d.Renditions, DescribedRendition{Name: r.Name, Width: r.Width, Height: r.Height,
			Codecs: r.Codecs, FrameRate: r.FrameRate, Bandwidth: max(peak, r.Bitrate)})
	}
	return d
}
