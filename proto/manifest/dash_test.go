package manifest

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/canopylive/canopy/proto"
)

// Test-local view of the MPD, independent of the package's own structs.
type tMPD struct {
	XMLName                    xml.Name  `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
	Profiles                   string    `xml:"profiles,attr"`
	Type                       string    `xml:"type,attr"`
	AvailabilityStartTime      string    `xml:"availabilityStartTime,attr"`
	PublishTime                string    `xml:"publishTime,attr"`
	MinimumUpdatePeriod        string    `xml:"minimumUpdatePeriod,attr"`
	TimeShiftBufferDepth       string    `xml:"timeShiftBufferDepth,attr"`
	SuggestedPresentationDelay string    `xml:"suggestedPresentationDelay,attr"`
	MediaPresentationDuration  string    `xml:"mediaPresentationDuration,attr"`
	MinBufferTime              string    `xml:"minBufferTime,attr"`
	Periods                    []tPeriod `xml:"Period"`
	UTCTiming                  []struct {
		Scheme string `xml:"schemeIdUri,attr"`
		Value  string `xml:"value,attr"`
	} `xml:"UTCTiming"`
}

type tPeriod struct {
	ID             string `xml:"id,attr"`
	Start          string `xml:"start,attr"`
	AdaptationSets []struct {
		MimeType         string       `xml:"mimeType,attr"`
		SegmentAlignment string       `xml:"segmentAlignment,attr"`
		StartWithSAP     string       `xml:"startWithSAP,attr"`
		Template         *tTemplate   `xml:"SegmentTemplate"`
		Reps             []tRepresent `xml:"Representation"`
	} `xml:"AdaptationSet"`
}

type tRepresent struct {
	ID        string     `xml:"id,attr"`
	Codecs    string     `xml:"codecs,attr"`
	Width     int        `xml:"width,attr"`
	Height    int        `xml:"height,attr"`
	Bandwidth int        `xml:"bandwidth,attr"`
	FrameRate string     `xml:"frameRate,attr"`
	Template  *tTemplate `xml:"SegmentTemplate"`
}

type tTemplate struct {
	Timescale string `xml:"timescale,attr"`
	Init      string `xml:"initialization,attr"`
	Media     string `xml:"media,attr"`
	Start     uint64 `xml:"startNumber,attr"`
	PTO       int64  `xml:"presentationTimeOffset,attr"`
	S         []struct {
		T *int64 `xml:"t,attr"`
		D int64  `xml:"d,attr"`
		R int    `xml:"r,attr"`
	} `xml:"SegmentTimeline>S"`
}

// timeline renders a template's S entries compactly: "t=0 d=2000 r=2; d=1500".
func (t *tTemplate) timeline() string {
	var parts []string
	for _, s := range t.S {
		p := ""
		if s.T != nil {
			p = fmt.Sprintf("t=%d ", *s.T)
		}
		p += fmt.Sprintf("d=%d", s.D)
		if s.R != 0 {
			p += fmt.Sprintf(" r=%d", s.R)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

func parseMPD(t *testing.T, b []byte) tMPD {
	t.Helper()
	if !strings.HasPrefix(string(b), xml.Header) {
		t.Fatalf("no XML header:\n%s", b)
	}
	var m tMPD
	if err := xml.Unmarshal(b, &m); err != nil {
		t.Fatalf("Unmarshal: %v\n%s", err, b)
	}
	return m
}

// perRendition copies segments to every rendition of ladder.
func perRendition(segs []proto.Segment) map[string][]proto.Segment {
	out := map[string][]proto.Segment{}
	for _, r := range ladder {
		for _, s := range segs {
			s.Rendition = r.Name
			out[r.Name] = append(out[r.Name], s)
		}
	}
	return out
}

// twoDiscontinuities: discontinuity 0 has sequences 10-13 (media time from
// 20 s, three of 2 s then 1.5 s), discontinuity 1 has 14-16 (media time
// from 0, 2 s, 2 s, then 2.002 s), starting 40 s after availability.
func twoDiscontinuities() []proto.Segment {
	segs := run("x", 10, 0, 20_000, 20_000, 2000, 3)
	segs = append(segs, seg("x", 13, 0, 26_000, 1500, 26_000))
	segs = append(segs, run("x", 14, 1, 0, 40_000, 2000, 2)...)
	return append(segs, seg("x", 16, 1, 4000, 2002, 44_000))
}

func TestDASHLive(t *testing.T) {
	now := t0.Add(50 * time.Second)
	out, err := DASHManifest(DASH{
		Renditions:        ladder,
		Segments:          perRendition(twoDiscontinuities()),
		Live:              true,
		AvailabilityStart: t0,
		Now:               now,
		SegmentDuration:   2 * time.Second,
		TimeShiftBuffer:   10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := parseMPD(t, out)
	for _, c := range []struct{ name, got, want string }{
		{"profiles", m.Profiles, "urn:mpeg:dash:profile:isoff-live:2011"},
		{"type", m.Type, "dynamic"},
		{"availabilityStartTime", m.AvailabilityStartTime, "2026-11-27T01:30:00.000Z"},
		{"publishTime", m.PublishTime, "2026-11-27T01:30:50.000Z"},
		{"minimumUpdatePeriod", m.MinimumUpdatePeriod, "PT2S"},
		{"timeShiftBufferDepth", m.TimeShiftBufferDepth, "PT600S"},
		{"suggestedPresentationDelay", m.SuggestedPresentationDelay, "PT6S"},
		{"mediaPresentationDuration", m.MediaPresentationDuration, ""},
		{"minBufferTime", m.MinBufferTime, "PT2S"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(m.UTCTiming) != 1 || m.UTCTiming[0].Scheme != "urn:mpeg:dash:utc:direct:2014" || m.UTCTiming[0].Value != m.PublishTime {
		t.Errorf("UTCTiming = %+v, want direct with publishTime", m.UTCTiming)
	}

	wantPeriods := []struct {
		id, start, init string
		startNumber     uint64
		pto             int64
		timeline        string
	}{
		{"p0", "PT20S", "$RepresentationID$/init-0.mp4", 10, 20_000, "t=20000 d=2000 r=2; d=1500"},
		{"p1", "PT40S", "$RepresentationID$/init-1.mp4", 14, 0, "t=0 d=2000 r=1; d=2002"},
	}
	if len(m.Periods) != len(wantPeriods) {
		t.Fatalf("%d periods, want %d:\n%s", len(m.Periods), len(wantPeriods), out)
	}
	for i, w := range wantPeriods {
		p := m.Periods[i]
		if p.ID != w.id || p.Start != w.start {
			t.Errorf("period %d: id %q start %q, want %q %q", i, p.ID, p.Start, w.id, w.start)
		}
		if len(p.AdaptationSets) != 1 {
			t.Fatalf("period %s: %d adaptation sets, want 1", p.ID, len(p.AdaptationSets))
		}
		as := p.AdaptationSets[0]
		if as.MimeType != "video/mp4" || as.SegmentAlignment != "true" || as.StartWithSAP != "1" {
			t.Errorf("period %s: adaptation set %+v", p.ID, as)
		}
		tpl := as.Template
		if tpl == nil {
			t.Fatalf("period %s: no shared SegmentTemplate:\n%s", p.ID, out)
		}
		if tpl.Timescale != "1000" || tpl.Init != w.init || tpl.Media != "$RepresentationID$/$Number$.m4s" ||
			tpl.Start != w.startNumber || tpl.PTO != w.pto {
			t.Errorf("period %s: template %+v", p.ID, tpl)
		}
		if got := tpl.timeline(); got != w.timeline {
			t.Errorf("period %s: timeline %q, want %q", p.ID, got, w.timeline)
		}
		var ids []string
		for _, r := range as.Reps {
			ids = append(ids, r.ID)
			if r.Template != nil {
				t.Errorf("period %s: representation %s has its own template", p.ID, r.ID)
			}
		}
		if got := strings.Join(ids, ","); got != "1080p,720p,480p" {
			t.Errorf("period %s: representations %s, want highest bandwidth first", p.ID, got)
		}
		r := as.Reps[0]
		if r.Codecs != "avc1.640028,mp4a.40.2" || r.Width != 1920 || r.Height != 1080 || r.Bandwidth != 6_000_000 || r.FrameRate != "30000/1001" {
			t.Errorf("period %s: representation %+v", p.ID, r)
		}
	}
}

func TestDASHStatic(t *testing.T) {
	out, err := DASHManifest(DASH{
		Renditions:      ladder[:1],
		Segments:        map[string][]proto.Segment{"480p": run("480p", 0, 0, 0, 0, 2000, 5)},
		SegmentDuration: 2 * time.Second,
		UTCTimingURL:    "https://origin.example/api/v1/time?a=1&b=2",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := parseMPD(t, out)
	if m.Type != "static" || m.MediaPresentationDuration != "PT10S" || m.MinimumUpdatePeriod != "" || m.TimeShiftBufferDepth != "" || m.AvailabilityStartTime != "" {
		t.Errorf("static MPD attributes: %+v", m)
	}
	if len(m.UTCTiming) != 1 || m.UTCTiming[0].Value != "https://origin.example/api/v1/time?a=1&b=2" {
		t.Errorf("UTCTiming = %+v", m.UTCTiming)
	}
	if len(m.Periods) != 1 || m.Periods[0].ID != "p0" || m.Periods[0].Start != "PT0S" {
		t.Fatalf("periods %+v", m.Periods)
	}
	tpl := m.Periods[0].AdaptationSets[0].Template
	if got := tpl.timeline(); got != "t=0 d=2000 r=4" || tpl.Start != 0 || tpl.PTO != 0 {
		t.Errorf("template start %d pto %d timeline %q", tpl.Start, tpl.PTO, got)
	}
}

// TestDASHStaticSpansDiscontinuities checks mediaPresentationDuration runs
// to the end of the last period, not the sum of the segments.
func TestDASHStaticSpansDiscontinuities(t *testing.T) {
	out, err := DASHManifest(DASH{
		Renditions:      ladder,
		Segments:        perRendition(twoDiscontinuities()),
		SegmentDuration: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := parseMPD(t, out)
	// Availability defaults to the first segment (t0+20 s); p1 starts 20 s
	// later and lasts 6.002 s.
	if m.MediaPresentationDuration != "PT26.002S" || len(m.Periods) != 2 || m.Periods[1].Start != "PT20S" {
		t.Fatalf("duration %q, periods %+v", m.MediaPresentationDuration, m.Periods)
	}
}

// TestDASHTimelineRounding: media times at 90 kHz that are not whole
// milliseconds must not open gaps in the timeline; a real gap gets its t.
func TestDASHTimelineRounding(t *testing.T) {
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / 90000 }
	var segs []proto.Segment
	for i, startTicks := range []int64{0, 180180, 360360, 540540 + 90000} { // 2.002 s each, then a 1 s gap
		s := seg("480p", uint64(i), 0, 0, 0, int64(i)*2002)
		s.Start = tick(startTicks).Truncate(time.Microsecond)
		s.Duration = tick(180180).Truncate(time.Microsecond)
		segs = append(segs, s)
	}
	out, err := DASHManifest(DASH{Renditions: ladder[:1], Segments: map[string][]proto.Segment{"480p": segs}, SegmentDuration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := parseMPD(t, out)
	if got := m.Periods[0].AdaptationSets[0].Template.timeline(); got != "t=0 d=2002 r=2; t=7006 d=2002" {
		t.Fatalf("timeline %q", got)
	}
}

// TestDASHPerRepresentationTemplates: when renditions' timelines differ,
// each Representation carries its own SegmentTemplate.
func TestDASHPerRepresentationTemplates(t *testing.T) {
	segs := perRendition(run("x", 0, 0, 0, 0, 2000, 3))
	segs["720p"][2].Duration = 1980 * time.Millisecond
	out, err := DASHManifest(DASH{Renditions: ladder, Segments: segs, SegmentDuration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	as := parseMPD(t, out).Periods[0].AdaptationSets[0]
	if as.Template != nil {
		t.Fatalf("shared template despite differing timelines:\n%s", out)
	}
	want := map[string]string{"1080p": "t=0 d=2000 r=2", "720p": "t=0 d=2000 r=1; d=1980", "480p": "t=0 d=2000 r=2"}
	for _, r := range as.Reps {
		if r.Template == nil || r.Template.timeline() != want[r.ID] {
			t.Errorf("%s: template %+v, want timeline %q", r.ID, r.Template, want[r.ID])
		}
	}
}

func TestDASHRejects(t *testing.T) {
	live := func() DASH {
		return DASH{
			Renditions: ladder, Segments: perRendition(twoDiscontinuities()), Live: true,
			AvailabilityStart: t0, Now: t0.Add(time.Minute), SegmentDuration: 2 * time.Second, TimeShiftBuffer: 10 * time.Minute,
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*DASH)
		want   error
	}{
		{"no renditions", func(d *DASH) { d.Renditions = nil }, ErrNoRenditions},
		{"bad rendition", func(d *DASH) { d.Renditions = []Rendition{{Name: "a b", Bandwidth: 1}} }, ErrInvalidRendition},
		{"empty lists", func(d *DASH) {
			d.Segments = map[string][]proto.Segment{"480p": nil, "720p": nil, "1080p": nil}
		}, ErrNoSegments},
		{"missing list", func(d *DASH) { delete(d.Segments, "720p"); d.Segments["360p"] = d.Segments["480p"] }, ErrRenditionMismatch},
		{"extra list", func(d *DASH) { d.Segments["360p"] = d.Segments["480p"] }, ErrRenditionMismatch},
		{"shorter list", func(d *DASH) { d.Segments["720p"] = d.Segments["720p"][1:] }, ErrRenditionMismatch},
		{"list of another rendition", func(d *DASH) { d.Segments["720p"] = d.Segments["480p"] }, ErrRenditionMismatch},
		{"discontinuity differs", func(d *DASH) {
			s := append([]proto.Segment(nil), d.Segments["720p"]...)
			for i := range s {
				s[i].Discontinuity++
			}
			d.Segments["720p"] = s
		}, ErrRenditionMismatch},
		{"gap in sequence", func(d *DASH) { d.Segments["720p"] = append(d.Segments["720p"][:2:2], d.Segments["720p"][3:]...) }, ErrInvalidSegments},
		{"live without availability", func(d *DASH) { d.AvailabilityStart = time.Time{} }, ErrInvalidParams},
		{"live without now", func(d *DASH) { d.Now = time.Time{} }, ErrInvalidParams},
		{"live without buffer", func(d *DASH) { d.TimeShiftBuffer = 0 }, ErrInvalidParams},
		{"no segment duration", func(d *DASH) { d.SegmentDuration = 0 }, ErrInvalidParams},
		{"segments before availability", func(d *DASH) { d.AvailabilityStart = t0.Add(time.Hour) }, ErrInvalidParams},
		{"newline in timing URL", func(d *DASH) { d.UTCTimingURL = "http://x/\n" }, ErrInvalidParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := live()
			tc.mutate(&d)
			if out, err := DASHManifest(d); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v\n%s", err, tc.want, out)
			}
		})
	}
}

func TestXSDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "PT0S"}, {2 * time.Second, "PT2S"}, {1500 * time.Millisecond, "PT1.5S"},
		{2002 * time.Millisecond, "PT2.002S"}, {10 * time.Minute, "PT600S"}, {1999600 * time.Microsecond, "PT2S"},
	} {
		if got := xsDuration(tc.in); got != tc.want {
			t.Errorf("xsDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDASHFrameRate(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, ""}, {30, "30"}, {25, "25"}, {29.97, "30000/1001"}, {30000.0 / 1001, "30000/1001"},
		{59.94, "60000/1001"}, {23.976, "24000/1001"}, {12.5, "25/2"},
	} {
		if got := dashFrameRate(tc.in); got != tc.want {
			t.Errorf("dashFrameRate(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDASHPeriodAnchors: once the live window drops the first segments of
// a discontinuity, the Period still starts where it did.
func TestDASHPeriodAnchors(t *testing.T) {
	all := twoDiscontinuities()
	window := all[2:] // seq 12 onwards: the window lost seq 10 and 11
	for _, tc := range []struct {
		name    string
		anchors map[uint32]proto.Segment
		start   string
		pto     int64
	}{
		{"no anchors: period follows the window", nil, "PT24S", 24_000},
		{"anchored: period stays put", map[uint32]proto.Segment{0: all[0], 1: all[4]}, "PT20S", 20_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := DASHManifest(DASH{Renditions: ladder, Segments: perRendition(window), Live: true,
				AvailabilityStart: t0, Now: t0.Add(50 * time.Second), SegmentDuration: 2 * time.Second,
				TimeShiftBuffer: 10 * time.Minute, PeriodAnchors: tc.anchors})
			if err != nil {
				t.Fatal(err)
			}
			p := parseMPD(t, out).Periods[0]
			if p.Start != tc.start || p.AdaptationSets[0].Template.PTO != tc.pto || p.AdaptationSets[0].Template.Start != 12 {
				t.Errorf("period start %s, PTO %d, startNumber %d; want %s, %d, 12", p.Start,
					p.AdaptationSets[0].Template.PTO, p.AdaptationSets[0].Template.Start, tc.start, tc.pto)
			}
		})
	}
}
