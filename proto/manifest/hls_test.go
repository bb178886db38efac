package manifest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/canopylive/canopy/proto"
)

func TestHLSMultivariant(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Rendition
		want string
	}{
		{"ladder highest first", ladder, `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=6000000,AVERAGE-BANDWIDTH=5000000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=29.970
1080p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=3000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000
720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1400000,AVERAGE-BANDWIDTH=1200000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=854x480,FRAME-RATE=30.000
480p/index.m3u8
`},
		{"unknowns left out", []Rendition{{Name: "src", Bandwidth: 800}}, `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=800
src/index.m3u8
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := HLSMultivariant(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestHLSMultivariantRejects(t *testing.T) {
	ok := Rendition{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3e6, Codecs: "avc1.64001f"}
	for _, tc := range []struct {
		name   string
		mutate func(*Rendition)
		want   error
	}{
		{"bad name", func(r *Rendition) { r.Name = "7/20p" }, ErrInvalidRendition},
		{"empty name", func(r *Rendition) { r.Name = "" }, ErrInvalidRendition},
		{"zero bandwidth", func(r *Rendition) { r.Bandwidth = 0 }, ErrInvalidRendition},
		{"quote in codecs", func(r *Rendition) { r.Codecs = `avc1",X="` }, ErrInvalidRendition},
		{"newline in codecs", func(r *Rendition) { r.Codecs = "avc1\n#EXT-X-ENDLIST" }, ErrInvalidRendition},
		{"half a resolution", func(r *Rendition) { r.Height = 0 }, ErrInvalidRendition},
		{"negative frame rate", func(r *Rendition) { r.FrameRate = -1 }, ErrInvalidRendition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.mutate(&r)
			if _, err := HLSMultivariant([]Rendition{r}); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := HLSMultivariant(nil); !errors.Is(err, ErrNoRenditions) {
		t.Errorf("no renditions: err = %v, want ErrNoRenditions", err)
	}
	if _, err := HLSMultivariant([]Rendition{ok, ok}); !errors.Is(err, ErrInvalidRendition) {
		t.Errorf("duplicate: err = %v, want ErrInvalidRendition", err)
	}
}

func TestHLSMedia(t *testing.T) {
	// Discontinuity 2 (a reconnect) starts at media time 0 again, 10 s of
	// wall clock after discontinuity 1 ended.
	withBreak := append(run("720p", 10, 1, 20_000, 20_000, 2000, 2),
		seg("720p", 12, 2, 0, 2002, 34_000), seg("720p", 13, 2, 2002, 1500, 36_002))
	for _, tc := range []struct {
		name string
		in   Media
		want string
	}{
		{"empty live", Media{TargetDuration: 2 * time.Second}, `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-DISCONTINUITY-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
`},
		{"live with a discontinuity", Media{Segments: withBreak, TargetDuration: 2 * time.Second}, `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:10
#EXT-X-DISCONTINUITY-SEQUENCE:1
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T01:30:20.000Z
#EXTINF:2.000,
10.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T01:30:22.000Z
#EXTINF:2.000,
11.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T01:30:34.000Z
#EXTINF:2.002,
12.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T01:30:36.002Z
#EXTINF:1.500,
13.m4s
`},
		{"ended VOD, long segment raises target", Media{
			Segments:       []proto.Segment{seg("720p", 0, 0, 0, 2000, 0), seg("720p", 1, 0, 2000, 3499, 2000)},
			TargetDuration: 2 * time.Second, Ended: true, VOD: true,
		}, `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-DISCONTINUITY-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-0.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T01:30:00.000Z
#EXTINF:2.000,
0.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T01:30:02.000Z
#EXTINF:3.499,
1.m4s
#EXT-X-ENDLIST
`},
		{"ended, not VOD", Media{Segments: run("720p", 5, 0, 10_000, 10_000, 2000, 1), TargetDuration: 2 * time.Second, Ended: true}, `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:5
#EXT-X-DISCONTINUITY-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-0.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T01:30:10.000Z
#EXTINF:2.000,
5.m4s
#EXT-X-ENDLIST
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := HLSMedia(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestHLSMediaRejects(t *testing.T) {
	good := run("720p", 10, 0, 0, 0, 2000, 3)
	with := func(i int, f func(*proto.Segment)) []proto.Segment {
		out := append([]proto.Segment(nil), good...)
		f(&out[i])
		return out
	}
	for _, tc := range []struct {
		name string
		in   Media
		want error
	}{
		{"gap in sequence", Media{Segments: with(2, func(s *proto.Segment) { s.Sequence = 13 })}, ErrInvalidSegments},
		{"sequence repeats", Media{Segments: with(1, func(s *proto.Segment) { s.Sequence = 10 })}, ErrInvalidSegments},
		{"discontinuity goes back", Media{Segments: with(0, func(s *proto.Segment) { s.Discontinuity = 1 })}, ErrInvalidSegments},
		{"start goes back", Media{Segments: with(2, func(s *proto.Segment) { s.Start = time.Second })}, ErrInvalidSegments},
		{"init record", Media{Segments: with(0, func(s *proto.Segment) {
			*s = proto.Segment{Stream: "demo", Broadcast: "b", Rendition: "720p", Kind: proto.KindInit}
		})}, ErrInvalidSegments},
		{"other rendition", Media{Segments: with(1, func(s *proto.Segment) { s.Rendition = "480p" })}, ErrInvalidSegments},
		{"invalid record", Media{Segments: with(1, func(s *proto.Segment) { s.ProgramDateTime = time.Time{} })}, proto.ErrInvalidSegment},
		{"VOD not ended", Media{Segments: good, VOD: true}, ErrInvalidParams},
		{"negative target", Media{Segments: good, TargetDuration: -time.Second}, ErrInvalidParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := HLSMedia(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v; playlist:\n%s", err, tc.want, got)
			}
		})
	}
}

func TestTargetDuration(t *testing.T) {
	for _, tc := range []struct {
		name       string
		configured time.Duration
		durs       []int64 // ms
		want       int64
	}{
		{"configured only", 2 * time.Second, nil, 2},
		{"configured rounds up", 1500 * time.Millisecond, nil, 2},
		{"nothing at all", 0, nil, 1},
		{"2.002 rounds to 2", 2 * time.Second, []int64{2002}, 2},
		{"2.5 rounds to 3", 2 * time.Second, []int64{2000, 2500}, 3},
		{"2.499 rounds to 2", 2 * time.Second, []int64{2499}, 2},
		{"longest wins", 2 * time.Second, []int64{2000, 6400, 2000}, 6},
		{"configured wins", 4 * time.Second, []int64{2000}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var segs []proto.Segment
			for i, d := range tc.durs {
				segs = append(segs, seg("720p", uint64(i), 0, 0, d, 0))
			}
			if got := TargetDuration(tc.configured, segs); got != tc.want {
				t.Fatalf("TargetDuration = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestHLSMediaEveryExtinfWithinTarget checks the RFC 8216 rule on a
// playlist of odd durations.
func TestHLSMediaEveryExtinfWithinTarget(t *testing.T) {
	var segs []proto.Segment
	var start int64
	for i, d := range []int64{1999, 2002, 2500, 1001, 3499, 2000} {
		segs = append(segs, seg("720p", uint64(i), 0, start, d, start))
		start += d
	}
	out, err := HLSMedia(Media{Segments: segs, TargetDuration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(out), "\n")
	var target string
	n := 0
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "#EXT-X-TARGETDURATION:"); ok {
			target = v
		}
		if v, ok := strings.CutPrefix(l, "#EXTINF:"); ok {
			n++
			d, err := time.ParseDuration(strings.TrimSuffix(v, ",") + "s")
			if err != nil {
				t.Fatal(err)
			}
			if td, _ := time.ParseDuration(target + "s"); d.Round(time.Second) > td {
				t.Errorf("EXTINF %v rounds above target %s", d, target)
			}
		}
	}
	if n != len(segs) || target != "3" {
		t.Fatalf("%d EXTINF lines, target %q; want %d and 3", n, target, len(segs))
	}
}
