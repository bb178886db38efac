package proto

import (
	"fmt"
	"time"
)

// Range of ProgramDateTime that Validate accepts: it must be representable in
// nanoseconds since the Unix epoch (see SigningBytes) with room to spare.
var (
	minProgramDateTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxProgramDateTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ValidName reports whether s is a valid stream, broadcast or rendition name:
// 1 to 64 characters from [A-Za-z0-9_-].
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Validate checks the record's fields for sanity (not its signature):
//   - Stream, Broadcast and Rendition are valid names (see ValidName);
//   - Kind is known;
//   - Start and Duration are >= 0 and whole microseconds;
//   - Length <= MaxSegmentLength; Signature is empty or ed25519.SignatureSize;
//   - an init segment has Sequence == Discontinuity, and zero Start, Duration
//     and ProgramDateTime;
//   - a media segment has a ProgramDateTime in [1970, 2200), in whole
//     milliseconds.
//
// Errors wrap ErrInvalidSegment.
func (s *Segment) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidSegment, err)
	}
	return nil
}

func (s *Segment) validate() error {
	for _, f := range []struct{ name, v string }{
		{"stream", s.Stream}, {"broadcast", s.Broadcast}, {"rendition", s.Rendition},
	} {
		if !ValidName(f.v) {
			return fmt.Errorf("%s %q does not match [A-Za-z0-9_-]{1,64}", f.name, f.v)
		}
	}
	if !s.Kind.Valid() {
		return fmt.Errorf("unknown kind %d", uint8(s.Kind))
	}
	if s.Start < 0 || s.Duration < 0 {
		return fmt.Errorf("negative start %v or duration %v", s.Start, s.Duration)
	}
	if s.Start%time.Microsecond != 0 || s.Duration%time.Microsecond != 0 {
		return fmt.Errorf("start %v or duration %v is not whole microseconds", s.Start, s.Duration)
	}
	if s.Length > MaxSegmentLength {
		return fmt.Errorf("length %d exceeds %d", s.Length, MaxSegmentLength)
	}
	if n := len(s.Signature); n != 0 && n != signatureSize {
		return fmt.Errorf("signature is %d bytes, want %d", n, signatureSize)
	}
	switch s.Kind {
	case KindInit:
		if s.Sequence != uint64(s.Discontinuity) {
			return fmt.Errorf("init sequence %d differs from discontinuity %d", s.Sequence, s.Discontinuity)
		}
		if s.Start != 0 || s.Duration != 0 || !s.ProgramDateTime.IsZero() {
			return fmt.Errorf("init segment has start, duration or program date-time")
		}
	case KindMedia:
		t := s.ProgramDateTime
		if t.Before(minProgramDateTime) || !t.Before(maxProgramDateTime) {
			return fmt.Errorf("program date-time %v outside [%v, %v)", t, minProgramDateTime, maxProgramDateTime)
		}
		if t.Nanosecond()%int(time.Millisecond) != 0 {
			return fmt.Errorf("program date-time %v is not whole milliseconds", t)
		}
	}
	return nil
}
