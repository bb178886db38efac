package proto

import (
	"errors"
	"math"
	"strconv"
	"testing"
)

func TestFileName(t *testing.T) {
	for _, tc := range []struct {
		seg  Segment
		want string
	}{
		{Segment{Kind: KindMedia, Sequence: 0}, "0.m4s"},
		{Segment{Kind: KindMedia, Sequence: 42}, "42.m4s"},
		{Segment{Kind: KindMedia, Sequence: math.MaxUint64}, "18446744073709551615.m4s"},
		{Segment{Kind: KindInit, Sequence: 0}, "init-0.mp4"},
		{Segment{Kind: KindInit, Sequence: 7, Discontinuity: 7}, "init-7.mp4"},
		{Segment{Kind: 0, Sequence: 7}, ""},
	} {
		if got := tc.seg.FileName(); got != tc.want {
			t.Errorf("FileName(%v %d) = %q, want %q", tc.seg.Kind, tc.seg.Sequence, got, tc.want)
		}
	}
}

func TestParseFileName(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind SegmentKind
		n    uint64
		ok   bool
	}{
		{"0.m4s", KindMedia, 0, true},
		{"42.m4s", KindMedia, 42, true},
		{"18446744073709551615.m4s", KindMedia, math.MaxUint64, true},
		{"init-0.mp4", KindInit, 0, true},
		{"init-4294967295.mp4", KindInit, math.MaxUint32, true},
		{"18446744073709551616.m4s", 0, 0, false},
		{"init-4294967296.mp4", 0, 0, false},
		{"042.m4s", 0, 0, false},
		{"00.m4s", 0, 0, false},
		{"init-01.mp4", 0, 0, false},
		{".m4s", 0, 0, false},
		{"init-.mp4", 0, 0, false},
		{"+1.m4s", 0, 0, false},
		{"-1.m4s", 0, 0, false},
		{"1.mp4", 0, 0, false},
		{"init-1.m4s", 0, 0, false},
		{"1.M4S", 0, 0, false},
		{"1.m4s ", 0, 0, false},
		{" 1.m4s", 0, 0, false},
		{"a/1.m4s", 0, 0, false},
		{"1_000.m4s", 0, 0, false},
		{"init-1.mp4.mp4", 0, 0, false},
		{"", 0, 0, false},
		{"index.m3u8", 0, 0, false},
		{"١.m4s", 0, 0, false}, // Arabic-Indic digit one
	} {
		kind, n, err := ParseFileName(tc.name)
		if !tc.ok {
			if !errors.Is(err, ErrBadFileName) {
				t.Errorf("ParseFileName(%q) = %v, %d, %v; want ErrBadFileName", tc.name, kind, n, err)
			}
			continue
		}
		if err != nil || kind != tc.kind || n != tc.n {
			t.Errorf("ParseFileName(%q) = %v, %d, %v; want %v, %d", tc.name, kind, n, err, tc.kind, tc.n)
		}
	}
}

func FuzzParseFileName(f *testing.F) {
	for _, s := range []string{"0.m4s", "42.m4s", "init-3.mp4", "007.m4s", "init-.mp4", "18446744073709551616.m4s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		kind, n, err := ParseFileName(name)
		if err != nil {
			if !errors.Is(err, ErrBadFileName) {
				t.Fatalf("error %v does not wrap ErrBadFileName", err)
			}
			// Anything FileName can produce must parse.
			for _, k := range []SegmentKind{KindMedia, KindInit} {
				if (Segment{Kind: k, Sequence: n}).FileName() == name {
					t.Fatalf("rejected %q that FileName produces", name)
				}
			}
			return
		}
		if got := (Segment{Kind: kind, Sequence: n}).FileName(); got != name {
			t.Fatalf("ParseFileName(%q) = %v %d, FileName gives %q", name, kind, n, got)
		}
	})
}

func FuzzFileNameRoundTrip(f *testing.F) {
	f.Add(uint64(0), true)
	f.Add(uint64(math.MaxUint64), false)
	f.Fuzz(func(t *testing.T, n uint64, media bool) {
		s := Segment{Kind: KindInit, Sequence: n}
		if media {
			s.Kind = KindMedia
		}
		kind, got, err := ParseFileName(s.FileName())
		if !media && n > math.MaxUint32 {
			if err == nil {
				t.Fatalf("init number %d accepted", n)
			}
			return
		}
		if err != nil || kind != s.Kind || got != n {
			t.Fatalf("round trip of %s = %v %d %v", strconv.Quote(s.FileName()), kind, got, err)
		}
	})
}
