package proto

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by this package. Callers match them with errors.Is.
var (
	// ErrInvalidSegment is wrapped with the reason by Validate and UnmarshalJSON.
	ErrInvalidSegment = errors.New("proto: invalid segment")
	// ErrBadSignature means the record's signature does not verify.
	ErrBadSignature = errors.New("proto: bad segment signature")
	// ErrLengthMismatch means the data's length differs from the record's Length.
	ErrLengthMismatch = errors.New("proto: segment length mismatch")
	// ErrHashMismatch means the data's SHA-256 differs from the record's SHA256.
	ErrHashMismatch = errors.New("proto: segment hash mismatch")
	// ErrBadFileName means a name is not a segment file name (see ParseFileName).
	ErrBadFileName = errors.New("proto: bad segment file name")
	// ErrBadPublicKey means a public key is not a well-formed Ed25519 key.
	ErrBadPublicKey = errors.New("proto: bad public key")
	// ErrBadKind means a segment kind is neither KindInit nor KindMedia.
	ErrBadKind = errors.New("proto: unknown segment kind")
)

// SegmentKind tells an initialisation segment from a media segment.
type SegmentKind uint8

// Segment kinds. The zero value is deliberately not a valid kind.
const (
	KindInit  SegmentKind = 1
	KindMedia SegmentKind = 2
)

// String returns "init", "media" or "SegmentKind(n)".
func (k SegmentKind) String() string {
	switch k {
	case KindInit:
		return "init"
	case KindMedia:
		return "media"
	}
	return fmt.Sprintf("SegmentKind(%d)", uint8(k))
}

// Valid reports whether k is a known kind.
func (k SegmentKind) Valid() bool { return k == KindInit || k == KindMedia }

// MarshalText encodes the kind as "init" or "media" (also used by JSON).
func (k SegmentKind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrBadKind, uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText accepts exactly "init" or "media".
func (k *SegmentKind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "init":
		*k = KindInit
	case "media":
		*k = KindMedia
	default:
		return fmt.Errorf("%w: %q", ErrBadKind, b)
	}
	return nil
}

// Limits enforced by Validate.
const (
	// MaxSegmentLength is the largest Length a record may carry (64 MiB).
	MaxSegmentLength = 64 << 20
	// MaxNameLength is the longest stream, broadcast or rendition name.
	MaxNameLength = 64
)

// Segment is the signed record of one init or media segment. The origin fills
// the descriptive fields, then Seal sets Length, SHA256 and Signature; anyone
// holding the origin's public key checks a segment with VerifyData.
//
// Times are kept at the precision of the JSON form so that a record survives
// a JSON round trip with its signature intact: Start and Duration are whole
// microseconds and ProgramDateTime whole milliseconds (Seal truncates them,
// Validate rejects anything finer).
type Segment struct {
	Stream    string // stream ID, e.g. "demo"
	Broadcast string // broadcast ID (one publish session chain of a stream)
	Rendition string // e.g. "720p"
	Kind      SegmentKind
	// Sequence is the media sequence number of a media segment, and the
	// discontinuity number of an init segment.
	Sequence uint64
	// Discontinuity is the discontinuity number (epoch) the segment belongs
	// to; 0 for the first.
	Discontinuity uint32
	// Start is the media time of the first sample within its discontinuity
	// (from tfdt); 0 for init segments.
	Start time.Duration
	// Duration of a media segment; 0 for init segments.
	Duration time.Duration
	// ProgramDateTime is the wall clock of the first sample (UTC); zero for
	// init segments.
	ProgramDateTime time.Time
	Length          uint64   // byte length of the segment data
	SHA256          [32]byte // SHA-256 of the segment data
	Signature       []byte   // Ed25519 over SigningBytes()
}
