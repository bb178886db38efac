package manifest

import (
	"encoding/xml"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/canopylive/canopy/proto"
)

// DASH profile and timing constants.
const (
	dashProfile   = "urn:mpeg:dash:profile:isoff-live:2011"
	dashTimescale = 1000 // SegmentTemplate timescale: milliseconds
	utcDirect     = "urn:mpeg:dash:utc:direct:2014"
	utcHTTPISO    = "urn:mpeg:dash:utc:http-iso:2014"
	dateLayout    = "2006-01-02T15:04:05.000Z07:00"
)

// DASH is the input of DASHManifest.
type DASH struct {
	Renditions []Rendition
	// Segments holds each rendition's media records by rendition name, in
	// the shape of Media.Segments. All renditions must have the same
	// sequence and discontinuity numbers.
	Segments map[string][]proto.Segment
	// Live makes a dynamic MPD; otherwise it is static.
	Live bool
	// AvailabilityStart is the ProgramDateTime of the broadcast's first
	// segment. Required when Live; for a static MPD it defaults to the first
	// listed segment's ProgramDateTime.
	AvailabilityStart time.Time
	// Now becomes publishTime (required when Live).
	Now time.Time
	// SegmentDuration is the configured segment duration (> 0).
	SegmentDuration time.Duration
	// TimeShiftBuffer is the DVR window of a live MPD (> 0 when Live).
	TimeShiftBuffer time.Duration
	// SuggestedPresentationDelay of a live MPD; 0 means 3 × SegmentDuration.
	SuggestedPresentationDelay time.Duration
	// UTCTimingURL, if set, is announced as an http-iso UTCTiming source.
	// Otherwise a live MPD carries Now as a direct UTCTiming value, so
	// players do not fall back to a third-party time server.
	UTCTimingURL string
	// PeriodAnchors, optional, holds the first media segment ever sealed in
	// each discontinuity (of the first rendition). A Period then starts at
	// its anchor even after the live window has dropped the anchor, so a
	// Period's start and presentationTimeOffset never move (DASH-IF IOP).
	PeriodAnchors map[uint32]proto.Segment
}

// DASHManifest renders an MPD (isoff-live profile) of one video
// AdaptationSet per Period, one Period per discontinuity (id "p<d>").
// A Period starts at its first listed segment's ProgramDateTime minus
// AvailabilityStart, with presentationTimeOffset that segment's Start.
// SegmentTemplate (timescale 1000, "$RepresentationID$/init-<d>.mp4",
// "$RepresentationID$/$Number$.m4s") sits on the AdaptationSet when every
// rendition has the same timeline, and on each Representation otherwise.
func DASHManifest(d DASH) ([]byte, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	rs := byBandwidth(d.Renditions)
	ref := d.Segments[rs[0].Name]
	avail := d.AvailabilityStart
	if avail.IsZero() {
		avail = ref[0].ProgramDateTime
	}
	mpd := mpdXML{
		Profiles:      dashProfile,
		Type:          "static",
		MinBufferTime: xsDuration(d.SegmentDuration),
	}
	if !d.Now.IsZero() {
		mpd.PublishTime = d.Now.UTC().Format(dateLayout)
	}
	if d.UTCTimingURL != "" {
		mpd.UTCTiming = &utcXML{SchemeIDURI: utcHTTPISO, Value: d.UTCTimingURL}
	}
	if d.Live {
		delay := d.SuggestedPresentationDelay
		if delay == 0 {
			delay = 3 * d.SegmentDuration
		}
		mpd.Type = "dynamic"
		mpd.AvailabilityStartTime = avail.UTC().Format(dateLayout)
		mpd.MinimumUpdatePeriod = xsDuration(d.SegmentDuration)
		mpd.TimeShiftBufferDepth = xsDuration(d.TimeShiftBuffer)
		mpd.SuggestedPresentationDelay = xsDuration(delay)
		if mpd.UTCTiming == nil {
			mpd.UTCTiming = &utcXML{SchemeIDURI: utcDirect, Value: mpd.PublishTime}
		}
	}

	var end time.Duration // end of the last period, from avail
	for lo := 0; lo < len(ref); {
		hi := lo + 1
		for hi < len(ref) && ref[hi].Discontinuity == ref[lo].Discontinuity {
			hi++
		}
		p, periodEnd, err := d.period(rs, lo, hi, avail)
		if err != nil {
			return nil, err
		}
		mpd.Periods = append(mpd.Periods, p)
		end = periodEnd
		lo = hi
	}
	if !d.Live {
		mpd.MediaPresentationDuration = xsDuration(end)
	}

	out, err := xml.MarshalIndent(mpd, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: encoding MPD: %w", err)
	}
	return append(append([]byte(xml.Header), out...), '\n'), nil
}

// period renders segments [lo, hi) of every rendition (one discontinuity)
// and returns the Period and its end relative to avail.
func (d *DASH) period(rs []Rendition, lo, hi int, avail time.Time) (periodXML, time.Duration, error) {
	first := d.Segments[rs[0].Name][lo]
	anchor := first
	if a, ok := d.PeriodAnchors[first.Discontinuity]; ok && a.Start <= first.Start && !a.ProgramDateTime.IsZero() {
		anchor = a
	}
	start := anchor.ProgramDateTime.Sub(avail)
	if start < 0 {
		return periodXML{}, 0, fmt.Errorf("%w: discontinuity %d starts at %v, before availability start %v",
			ErrInvalidParams, first.Discontinuity, first.ProgramDateTime, avail)
	}
	templates := make([]segmentTemplateXML, len(rs))
	shared := true
	for i, r := range rs {
		templates[i] = template(d.Segments[r.Name][lo:hi], anchor.Start)
		shared = shared && equalTemplates(&templates[i], &templates[0])
	}
	p := periodXML{
		ID:    "p" + strconv.FormatUint(uint64(first.Discontinuity), 10),
		Start: xsDuration(start),
		AdaptationSet: adaptationSetXML{
			ContentType:      "video",
			MimeType:         "video/mp4",
			SegmentAlignment: true,
			StartWithSAP:     1,
		},
	}
	if shared {
		p.AdaptationSet.SegmentTemplate = &templates[0]
	}
	for i, r := range rs {
		rep := representationXML{
			ID:        r.Name,
			Codecs:    r.Codecs,
			Width:     r.Width,
			Height:    r.Height,
			Bandwidth: r.Bandwidth,
			FrameRate: dashFrameRate(r.FrameRate),
		}
		if !shared {
			rep.SegmentTemplate = &templates[i]
		}
		p.AdaptationSet.Representations = append(p.AdaptationSet.Representations, rep)
	}
	last := d.Segments[rs[0].Name][hi-1]
	return p, start + last.Start + last.Duration - anchor.Start, nil
}

// template builds the SegmentTemplate of one rendition's segments within
// one discontinuity. Times are rounded to milliseconds from the media
// timeline, so rounding never opens gaps between segments that touch; t is
// written on the first entry and wherever there is a real gap or overlap.
func template(segs []proto.Segment, offset time.Duration) segmentTemplateXML {
	st := segmentTemplateXML{
		Timescale:              dashTimescale,
		Initialization:         "$RepresentationID$/" + initFileName(segs[0].Discontinuity),
		Media:                  "$RepresentationID$/$Number$.m4s",
		StartNumber:            segs[0].Sequence,
		PresentationTimeOffset: roundMS(offset),
	}
	var next int64 // expected t of the next segment if it follows on
	for i, s := range segs {
		t, dur := roundMS(s.Start), roundMS(s.Start+s.Duration)-roundMS(s.Start)
		if n := len(st.Timeline); i > 0 && t == next && st.Timeline[n-1].D == dur {
			st.Timeline[n-1].R++
		} else if i > 0 && t == next {
			st.Timeline = append(st.Timeline, sXML{D: dur})
		} else {
			st.Timeline = append(st.Timeline, sXML{T: &t, D: dur})
		}
		next = t + dur
	}
	return st
}

func equalTemplates(a, b *segmentTemplateXML) bool {
	return a.Initialization == b.Initialization && a.StartNumber == b.StartNumber &&
		a.PresentationTimeOffset == b.PresentationTimeOffset &&
		slices.EqualFunc(a.Timeline, b.Timeline, func(x, y sXML) bool {
			return x.D == y.D && x.R == y.R && (x.T == nil) == (y.T == nil) && (x.T == nil || *x.T == *y.T)
		})
}

// check validates d: renditions, one valid non-empty segment list per
// rendition, lined up by sequence and discontinuity, and the timing
// parameters.
func (d *DASH) check() error {
	if err := validateRenditions(d.Renditions); err != nil {
		return err
	}
	if d.SegmentDuration <= 0 || d.SuggestedPresentationDelay < 0 {
		return fmt.Errorf("%w: segment duration %v, presentation delay %v", ErrInvalidParams, d.SegmentDuration, d.SuggestedPresentationDelay)
	}
	if d.Live && (d.AvailabilityStart.IsZero() || d.Now.IsZero() || d.TimeShiftBuffer <= 0) {
		return fmt.Errorf("%w: a live MPD needs AvailabilityStart, Now and TimeShiftBuffer", ErrInvalidParams)
	}
	if !validURL(d.UTCTimingURL) {
		return fmt.Errorf("%w: UTC timing URL %q", ErrInvalidParams, d.UTCTimingURL)
	}
	if len(d.Segments) != len(d.Renditions) {
		return fmt.Errorf("%w: %d segment lists for %d renditions", ErrRenditionMismatch, len(d.Segments), len(d.Renditions))
	}
	ref := d.Segments[d.Renditions[0].Name]
	for _, r := range d.Renditions {
		segs, ok := d.Segments[r.Name]
		if !ok {
			return fmt.Errorf("%w: no segment list for %q", ErrRenditionMismatch, r.Name)
		}
		if len(segs) == 0 {
			return fmt.Errorf("%w: rendition %q", ErrNoSegments, r.Name)
		}
		if err := checkSegments(segs); err != nil {
			return fmt.Errorf("rendition %q: %w", r.Name, err)
		}
		if segs[0].Rendition != r.Name {
			return fmt.Errorf("%w: list %q holds rendition %q", ErrRenditionMismatch, r.Name, segs[0].Rendition)
		}
		if len(segs) != len(ref) || segs[0].Sequence != ref[0].Sequence {
			return fmt.Errorf("%w: %q has %d segments from %d, %q has %d from %d", ErrRenditionMismatch,
				r.Name, len(segs), segs[0].Sequence, d.Renditions[0].Name, len(ref), ref[0].Sequence)
		}
		for i := range segs {
			if segs[i].Discontinuity != ref[i].Discontinuity {
				return fmt.Errorf("%w: segment %d is in discontinuity %d in %q, %d in %q", ErrRenditionMismatch,
					segs[i].Sequence, segs[i].Discontinuity, r.Name, ref[i].Discontinuity, d.Renditions[0].Name)
			}
		}
	}
	return nil
}

// validURL keeps control characters out of the attribute; encoding/xml
// escapes the rest.
func validURL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// xsDuration formats a non-negative duration as an xs:duration in seconds
// with millisecond precision: "PT2S", "PT1.5S", "PT600S".
func xsDuration(d time.Duration) string {
	ms := roundMS(d)
	s := "PT" + strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		f := fmt.Sprintf("%03d", frac)
		for f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		s += "." + f
	}
	return s + "S"
}

// dashFrameRate formats a frame rate as a DASH FrameRateType: "30",
// "30000/1001" for the NTSC rates, otherwise a reduced fraction over 1000.
// 0 gives "" (attribute left out).
func dashFrameRate(f float64) string {
	if f <= 0 {
		return ""
	}
	if r := math.Round(f); math.Abs(f-r) < 1e-6 {
		return strconv.FormatInt(int64(r), 10)
	}
	if n := math.Round(f * 1.001); math.Abs(f*1.001-n) < 1e-3 {
		return strconv.FormatInt(int64(n)*1000, 10) + "/1001"
	}
	num, den := int64(math.Round(f*1000)), int64(1000)
	if num == 0 {
		return ""
	}
	g := gcd(num, den)
	return strconv.FormatInt(num/g, 10) + "/" + strconv.FormatInt(den/g, 10)
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
