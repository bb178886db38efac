package proto

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		base   func() Segment
		mutate func(*Segment)
		ok     bool
	}{
		{"media", mediaSegment, func(*Segment) {}, true},
		{"init", initSegment, func(*Segment) {}, true},
		{"64-char name", mediaSegment, func(s *Segment) { s.Stream = strings.Repeat("a", 64) }, true},
		{"all name chars", mediaSegment, func(s *Segment) { s.Rendition = "AZaz09_-" }, true},
		{"max length", mediaSegment, func(s *Segment) { s.Length = MaxSegmentLength }, true},
		{"epoch date", mediaSegment, func(s *Segment) { s.ProgramDateTime = time.Unix(0, 0) }, true},
		{"65-char name", mediaSegment, func(s *Segment) { s.Stream = strings.Repeat("a", 65) }, false},
		{"empty stream", mediaSegment, func(s *Segment) { s.Stream = "" }, false},
		{"empty broadcast", mediaSegment, func(s *Segment) { s.Broadcast = "" }, false},
		{"dot in rendition", mediaSegment, func(s *Segment) { s.Rendition = "720.p" }, false},
		{"slash in stream", mediaSegment, func(s *Segment) { s.Stream = "../x" }, false},
		{"unicode name", mediaSegment, func(s *Segment) { s.Stream = "dé" }, false},
		{"kind zero", mediaSegment, func(s *Segment) { s.Kind = 0 }, false},
		{"kind 3", mediaSegment, func(s *Segment) { s.Kind = 3 }, false},
		{"negative duration", mediaSegment, func(s *Segment) { s.Duration = -time.Second }, false},
		{"negative start", mediaSegment, func(s *Segment) { s.Start = -time.Second }, false},
		{"sub-µs duration", mediaSegment, func(s *Segment) { s.Duration += 1 }, false},
		{"too long", mediaSegment, func(s *Segment) { s.Length = MaxSegmentLength + 1 }, false},
		{"short signature", mediaSegment, func(s *Segment) { s.Signature = make([]byte, 63) }, false},
		{"media without date", mediaSegment, func(s *Segment) { s.ProgramDateTime = time.Time{} }, false},
		{"media before 1970", mediaSegment, func(s *Segment) { s.ProgramDateTime = time.Unix(-1, 0) }, false},
		{"media after 2200", mediaSegment, func(s *Segment) { s.ProgramDateTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
		{"sub-ms date", mediaSegment, func(s *Segment) { s.ProgramDateTime = s.ProgramDateTime.Add(time.Microsecond) }, false},
		{"init with duration", initSegment, func(s *Segment) { s.Duration = time.Second }, false},
		{"init with start", initSegment, func(s *Segment) { s.Start = time.Second }, false},
		{"init with date", initSegment, func(s *Segment) { s.ProgramDateTime = time.Unix(1, 0) }, false},
		{"init sequence not its discontinuity", initSegment, func(s *Segment) { s.Sequence = 5 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.base()
			tc.mutate(&s)
			err := s.Validate()
			if tc.ok && err != nil {
				t.Fatalf("Validate = %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidSegment) {
				t.Fatalf("Validate = %v, want ErrInvalidSegment", err)
			}
		})
	}
}

func TestSegmentKindText(t *testing.T) {
	for _, tc := range []struct {
		kind SegmentKind
		str  string
		ok   bool
	}{
		{KindInit, "init", true},
		{KindMedia, "media", true},
		{0, "SegmentKind(0)", false},
		{9, "SegmentKind(9)", false},
	} {
		if got := tc.kind.String(); got != tc.str {
			t.Errorf("String(%d) = %q, want %q", uint8(tc.kind), got, tc.str)
		}
		b, err := tc.kind.MarshalText()
		if (err == nil) != tc.ok {
			t.Errorf("MarshalText(%d) error = %v, want ok=%v", uint8(tc.kind), err, tc.ok)
		}
		if tc.ok {
			var k SegmentKind
			if err := k.UnmarshalText(b); err != nil || k != tc.kind {
				t.Errorf("UnmarshalText(%q) = %v, %v", b, k, err)
			}
		}
	}
	var k SegmentKind
	if err := k.UnmarshalText([]byte("Init")); !errors.Is(err, ErrBadKind) {
		t.Errorf("UnmarshalText(Init) = %v, want ErrBadKind", err)
	}
}
