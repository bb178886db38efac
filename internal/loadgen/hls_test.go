package loadgen

import (
	"errors"
	"testing"
	"time"
)

const testMedia = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:41
#EXT-X-MAP:URI="init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T10:00:00.000Z
#EXTINF:2.000,
41.m4s
#EXTINF:1.960,
42.m4s
`

func TestParseMedia(t *testing.T) {
	p, err := parseMedia([]byte(testMedia))
	if err != nil {
		t.Fatal(err)
	}
	if p.Target != 2*time.Second || p.Ended || len(p.Segments) != 2 {
		t.Fatalf("parsed %+v", p)
	}
	s0, s1 := p.Segments[0], p.Segments[1]
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	if s0.Seq != 41 || s0.URI != "41.m4s" || s0.Map != "init.mp4" || s0.Duration != 2*time.Second || !s0.PDT.Equal(start) {
		t.Errorf("first segment %+v", s0)
	}
	if s1.Seq != 42 || s1.Duration != 1960*time.Millisecond || !s1.PDT.Equal(start.Add(2*time.Second)) {
		t.Errorf("second segment %+v (its PDT follows the first's duration)", s1)
	}
	for _, bad := range []string{
		"#EXTM3U\n",                                 // no target duration
		"#EXT-X-TARGETDURATION:x\n",                 // not a number
		"#EXT-X-TARGETDURATION:0\n",                 // not positive
		"#EXT-X-TARGETDURATION:99999999\n",          // absurd
		"#EXT-X-TARGETDURATION:2\n#EXTINF:NaN,\n",   // NaN duration
		"#EXT-X-TARGETDURATION:2\n#EXTINF:-1,\n",    // negative
		"#EXT-X-TARGETDURATION:2\n#EXTINF:1e300,\n", // overflows a Duration
		"#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:-3\n",
		"#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n",
	} {
		if _, err := parseMedia([]byte(bad)); !errors.Is(err, ErrPlaylist) {
			t.Errorf("parseMedia(%q) error %v, want ErrPlaylist", bad, err)
		}
	}
}

func TestParseMaster(t *testing.T) {
	vs, err := parseMaster([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1320000,CODECS=\"avc1.4d401f,mp4a.40.2\",RESOLUTION=854x480\n480p/index.m3u8\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=328000,RESOLUTION=256x144\n144p/index.m3u8\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Name != "480p" || vs[0].Bandwidth != 1320000 || vs[1].Name != "144p" || vs[1].Bandwidth != 328000 {
		t.Fatalf("variants %+v", vs)
	}
	if _, err := parseMaster([]byte("#EXTM3U\n")); !errors.Is(err, ErrPlaylist) {
		t.Fatalf("no variants: error %v", err)
	}
}

// FuzzParseMedia: a playlist from a server under test never crashes the
// parser, and what it accepts is usable: a positive target, consecutive
// sequence numbers, durations in bounds.
func FuzzParseMedia(f *testing.F) {
	f.Add([]byte(testMedia))
	f.Add([]byte("#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na\n#EXT-X-ENDLIST\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseMedia(b)
		if err != nil {
			return
		}
		if p.Target <= 0 || p.Target > maxSegmentSeconds*time.Second {
			t.Fatalf("target %v", p.Target)
		}
		for i, s := range p.Segments {
			if s.Duration < 0 || s.Duration > maxSegmentSeconds*time.Second || s.URI == "" {
				t.Fatalf("segment %d: %+v", i, s)
			}
			if i > 0 && s.Seq != p.Segments[i-1].Seq+1 {
				t.Fatalf("segment %d: sequence %d after %d", i, s.Seq, p.Segments[i-1].Seq)
			}
		}
	})
}

// FuzzParseMaster: never crashes; every variant it returns has a URI.
func FuzzParseMaster(f *testing.F) {
	f.Add([]byte("#EXT-X-STREAM-INF:BANDWIDTH=1,X=2\n144p/index.m3u8\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := parseMaster(b)
		if err != nil {
			return
		}
		for _, v := range vs {
			if v.URI == "" {
				t.Fatalf("variant without a URI: %+v", v)
			}
		}
	})
}
