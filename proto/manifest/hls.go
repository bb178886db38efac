package manifest

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/canopylive/canopy/proto"
)

// hlsVersion is the EXT-X-VERSION of every playlist (EXT-X-MAP with fMP4
// needs 6; 7 is what the multivariant playlist's attributes assume).
const hlsVersion = 7

// programDateTimeLayout is RFC 3339 with milliseconds; UTC renders as "Z".
const programDateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// HLSMultivariant renders the multivariant (master) playlist: one
// EXT-X-STREAM-INF per rendition, highest BANDWIDTH first, each pointing at
// "<name>/index.m3u8". AVERAGE-BANDWIDTH, CODECS, RESOLUTION and FRAME-RATE
// are left out when unknown (zero or empty).
func HLSMultivariant(rs []Rendition) ([]byte, error) {
	if err := validateRenditions(rs); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n", hlsVersion)
	for _, r := range byBandwidth(rs) {
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d", r.Bandwidth)
		if r.AverageBandwidth > 0 {
			fmt.Fprintf(&b, ",AVERAGE-BANDWIDTH=%d", r.AverageBandwidth)
		}
		if r.Codecs != "" {
			fmt.Fprintf(&b, ",CODECS=%q", r.Codecs)
		}
		if r.Width > 0 {
			fmt.Fprintf(&b, ",RESOLUTION=%dx%d", r.Width, r.Height)
		}
		if r.FrameRate > 0 {
			fmt.Fprintf(&b, ",FRAME-RATE=%.3f", r.FrameRate)
		}
		fmt.Fprintf(&b, "\n%s/index.m3u8\n", r.Name)
	}
	return b.Bytes(), nil
}

// byBandwidth returns a copy of rs, highest Bandwidth first (ties keep
// their order).
func byBandwidth(rs []Rendition) []Rendition {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b Rendition) int { return cmp.Compare(b.Bandwidth, a.Bandwidth) })
	return out
}

// Media is the input of a rendition's media playlist.
type Media struct {
	// Segments are media records in ascending, consecutive Sequence order,
	// possibly spanning several discontinuities.
	Segments []proto.Segment
	// TargetDuration is the configured segment duration.
	TargetDuration time.Duration
	// Ended adds EXT-X-ENDLIST.
	Ended bool
	// VOD adds EXT-X-PLAYLIST-TYPE:VOD; the caller sets it only when the
	// list is complete. It requires Ended.
	VOD bool
}

// TargetDuration returns the EXT-X-TARGETDURATION in seconds: the larger of
// the configured duration rounded up, and the longest segment rounded to
// the nearest second (RFC 8216, 4.3.3.1); at least 1.
func TargetDuration(configured time.Duration, segs []proto.Segment) int64 {
	target := int64((configured + time.Second - 1) / time.Second)
	for _, s := range segs {
		target = max(target, int64((s.Duration+time.Second/2)/time.Second))
	}
	return max(target, 1)
}

// HLSMedia renders a rendition's media playlist. Each segment carries
// EXT-X-PROGRAM-DATE-TIME, EXTINF (3 decimals) and its URI "<seq>.m4s";
// EXT-X-MAP names "init-<d>.mp4" before the first segment and after every
// EXT-X-DISCONTINUITY (emitted where Discontinuity changes). An empty list
// gives a valid playlist with no segments (MEDIA-SEQUENCE 0).
func HLSMedia(m Media) ([]byte, error) {
	if m.TargetDuration < 0 || (m.VOD && !m.Ended) {
		return nil, fmt.Errorf("%w: target duration %v, VOD %v, ended %v", ErrInvalidParams, m.TargetDuration, m.VOD, m.Ended)
	}
	if err := checkSegments(m.Segments); err != nil {
		return nil, err
	}
	var seq uint64
	var disc uint32
	if len(m.Segments) > 0 {
		seq, disc = m.Segments[0].Sequence, m.Segments[0].Discontinuity
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n", hlsVersion, TargetDuration(m.TargetDuration, m.Segments))
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", seq, disc)
	if m.VOD {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n")
	}
	b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	for i, s := range m.Segments {
		if i > 0 && s.Discontinuity != m.Segments[i-1].Discontinuity {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if i == 0 || s.Discontinuity != m.Segments[i-1].Discontinuity {
			fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q\n", initFileName(s.Discontinuity))
		}
		ms := roundMS(s.Duration)
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%d.%03d,\n%s\n",
			s.ProgramDateTime.UTC().Format(programDateTimeLayout), ms/1000, ms%1000, s.FileName())
	}
	if m.Ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.Bytes(), nil
}
