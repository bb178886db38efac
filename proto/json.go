package proto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// programDateTimeLayout is RFC 3339 with milliseconds, as HLS uses it.
const programDateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// segmentJSON is the JSON form of Segment. Example:
//
//	{"stream":"demo","broadcast":"20261127T013000Z","rendition":"720p",
//	 "kind":"media","sequence":42,"discontinuity":0,"start_us":84000000,
//	 "duration_us":2000000,"program_date_time":"2026-11-27T01:31:24.000Z",
//	 "length":123456,"sha256":"<64 lowercase hex>","signature":"<std base64>"}
//
// program_date_time is omitted when zero (init segments) and signature when
// the record is not sealed.
type segmentJSON struct {
	Stream          string      `json:"stream"`
	Broadcast       string      `json:"broadcast"`
	Rendition       string      `json:"rendition"`
	Kind            SegmentKind `json:"kind"`
	Sequence        uint64      `json:"sequence"`
	Discontinuity   uint32      `json:"discontinuity"`
	StartUS         int64       `json:"start_us"`
	DurationUS      int64       `json:"duration_us"`
	ProgramDateTime string      `json:"program_date_time,omitempty"`
	Length          uint64      `json:"length"`
	SHA256          string      `json:"sha256"`
	Signature       string      `json:"signature,omitempty"`
}

// MarshalJSON encodes the record in its JSON form (see segmentJSON). Start
// and Duration are written as whole microseconds (truncated).
func (s Segment) MarshalJSON() ([]byte, error) {
	j := segmentJSON{
		Stream:        s.Stream,
		Broadcast:     s.Broadcast,
		Rendition:     s.Rendition,
		Kind:          s.Kind,
		Sequence:      s.Sequence,
		Discontinuity: s.Discontinuity,
		StartUS:       s.Start.Microseconds(),
		DurationUS:    s.Duration.Microseconds(),
		Length:        s.Length,
		SHA256:        hex.EncodeToString(s.SHA256[:]),
	}
	if !s.ProgramDateTime.IsZero() {
		j.ProgramDateTime = s.ProgramDateTime.UTC().Format(programDateTimeLayout)
	}
	if len(s.Signature) > 0 {
		j.Signature = base64.StdEncoding.EncodeToString(s.Signature)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the JSON form strictly: unknown fields, trailing
// data, a sha256 that is not 64 hex digits, a signature that is not
// canonical base64 of 64 bytes, or a record that fails Validate are errors
// wrapping ErrInvalidSegment. On error s is left unchanged.
func (s *Segment) UnmarshalJSON(b []byte) error {
	var j segmentJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSegment, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after segment", ErrInvalidSegment)
	}
	out, err := j.segment()
	if err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidSegment, err)
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*s = out
	return nil
}

func (j *segmentJSON) segment() (Segment, error) {
	s := Segment{
		Stream:        j.Stream,
		Broadcast:     j.Broadcast,
		Rendition:     j.Rendition,
		Kind:          j.Kind,
		Sequence:      j.Sequence,
		Discontinuity: j.Discontinuity,
		Length:        j.Length,
	}
	var err error
	if s.Start, err = microseconds("start_us", j.StartUS); err != nil {
		return Segment{}, err
	}
	if s.Duration, err = microseconds("duration_us", j.DurationUS); err != nil {
		return Segment{}, err
	}
	if j.ProgramDateTime != "" {
		t, err := time.Parse(time.RFC3339, j.ProgramDateTime)
		if err != nil {
			return Segment{}, fmt.Errorf("program_date_time: %w", err)
		}
		s.ProgramDateTime = t.UTC()
	}
	if len(j.SHA256) != 2*len(s.SHA256) {
		return Segment{}, fmt.Errorf("sha256 has %d hex digits, want %d", len(j.SHA256), 2*len(s.SHA256))
	}
	if _, err := hex.Decode(s.SHA256[:], []byte(j.SHA256)); err != nil {
		return Segment{}, fmt.Errorf("sha256: %w", err)
	}
	if j.Signature != "" {
		sig, err := base64.StdEncoding.Strict().DecodeString(j.Signature)
		if err != nil {
			return Segment{}, fmt.Errorf("signature: %w", err)
		}
		if base64.StdEncoding.EncodeToString(sig) != j.Signature { // the decoder skips newlines
			return Segment{}, fmt.Errorf("signature is not canonical base64")
		}
		if len(sig) != signatureSize {
			return Segment{}, fmt.Errorf("signature is %d bytes, want %d", len(sig), signatureSize)
		}
		s.Signature = sig
	}
	return s, nil
}

func microseconds(field string, us int64) (time.Duration, error) {
	if us < 0 || us > math.MaxInt64/int64(time.Microsecond) {
		return 0, fmt.Errorf("%s %d out of range", field, us)
	}
	return time.Duration(us) * time.Microsecond, nil
}
