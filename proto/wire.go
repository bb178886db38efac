package proto

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/encoding/protodelim"
	gproto "google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto/treepb"
)

// Protocol IDs of Canopy's libp2p streams. The major version is in the ID;
// a node refuses streams of a version it does not speak.
const (
	TreeProtocol    = "/canopy/tree/1.0.0"
	TrackerProtocol = "/canopy/tracker/1.0.0"
)

// MaxMessageSize bounds one length-delimited message: a segment and its
// record, with room to spare. Larger messages are refused before reading.
const MaxMessageSize = MaxSegmentLength + 64<<10

// ErrBadMessage wraps every decoding failure of a wire message.
var ErrBadMessage = errors.New("malformed wire message")

// ReadMessage reads one length-delimited protobuf message of at most max
// bytes (MaxMessageSize when max is 0). Errors of the reader itself (EOF, a
// reset stream, a deadline) come back as they are; only bytes that do not
// decode are ErrBadMessage, so a peer is blamed only for what it sent.
func ReadMessage(r *bufio.Reader, m gproto.Message, max int) error {
	if max <= 0 {
		max = MaxMessageSize
	}
	tr := &trackingReader{r: r}
	err := protodelim.UnmarshalOptions{MaxSize: int64(max)}.UnmarshalFrom(tr, m)
	switch {
	case err == nil:
		return nil
	case tr.err != nil && errors.Is(err, tr.err):
		return err
	case tr.err != nil && errors.Is(tr.err, io.EOF):
		return io.ErrUnexpectedEOF // the message was cut short by the peer closing
	case tr.err != nil:
		return tr.err
	}
	return fmt.Errorf("%w: %w", ErrBadMessage, err)
}

// trackingReader remembers the first error of the reader underneath.
type trackingReader struct {
	r   *bufio.Reader
	err error
}

func (t *trackingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && t.err == nil {
		t.err = err
	}
	return n, err
}

func (t *trackingReader) ReadByte() (byte, error) {
	b, err := t.r.ReadByte()
	if err != nil && t.err == nil {
		t.err = err
	}
	return b, err
}

// WriteMessage writes one length-delimited protobuf message.
func WriteMessage(w io.Writer, m gproto.Message) error {
	_, err := protodelim.MarshalTo(w, m)
	return err
}

// ToPB converts a record to its wire form.
func (s *Segment) ToPB() *treepb.SegmentRecord {
	pb := &treepb.SegmentRecord{
		Stream: s.Stream, Broadcast: s.Broadcast, Rendition: s.Rendition, Kind: uint32(s.Kind),
		Sequence: s.Sequence, Discontinuity: s.Discontinuity,
		StartUs: s.Start.Microseconds(), DurationUs: s.Duration.Microseconds(),
		Length: s.Length, Sha256: append([]byte(nil), s.SHA256[:]...), Signature: append([]byte(nil), s.Signature...),
	}
	if !s.ProgramDateTime.IsZero() {
		pb.ProgramDateTimeMs = s.ProgramDateTime.UnixMilli()
	}
	return pb
}

// SegmentFromPB converts a wire record back and validates it. The signature
// is not checked here: call VerifyData with the origin's key.
func SegmentFromPB(pb *treepb.SegmentRecord) (Segment, error) {
	if pb == nil {
		return Segment{}, fmt.Errorf("%w: no record", ErrBadMessage)
	}
	if len(pb.Sha256) != 32 {
		return Segment{}, fmt.Errorf("%w: sha256 of %d bytes", ErrBadMessage, len(pb.Sha256))
	}
	if pb.Kind > 255 {
		return Segment{}, fmt.Errorf("%w: kind %d", ErrBadMessage, pb.Kind)
	}
	s := Segment{
		Stream: pb.Stream, Broadcast: pb.Broadcast, Rendition: pb.Rendition, Kind: SegmentKind(pb.Kind),
		Sequence: pb.Sequence, Discontinuity: pb.Discontinuity,
		Start: time.Duration(pb.StartUs) * time.Microsecond, Duration: time.Duration(pb.DurationUs) * time.Microsecond,
		Length: pb.Length, Signature: append([]byte(nil), pb.Signature...),
	}
	copy(s.SHA256[:], pb.Sha256)
	if pb.ProgramDateTimeMs != 0 {
		s.ProgramDateTime = time.UnixMilli(pb.ProgramDateTimeMs).UTC()
	}
	if len(s.Signature) == 0 {
		s.Signature = nil
	}
	if err := s.Validate(); err != nil {
		return Segment{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return s, nil
}
