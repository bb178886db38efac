package proto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// SigningDomain is the domain-separation tag that starts SigningBytes.
const SigningDomain = "canopy/segment/v1"

const signatureSize = ed25519.SignatureSize

// SigningBytes returns the canonical bytes that Signature signs. Every field
// except Signature is covered. Other implementations (such as the browser's
// verifier) must reproduce this layout exactly:
//
//	string  SigningDomain ("canopy/segment/v1")
//	string  Stream
//	string  Broadcast
//	string  Rendition
//	uint8   Kind (1 = init, 2 = media)
//	uint64  Sequence
//	uint32  Discontinuity
//	int64   Start, nanoseconds
//	int64   Duration, nanoseconds
//	uint8   1 if ProgramDateTime is set, 0 if it is the zero time
//	int64   ProgramDateTime, nanoseconds since 1970-01-01T00:00:00Z (0 if unset)
//	uint64  Length
//	[32]    SHA256
//
// All integers are big-endian and fixed width; int64 is two's complement. A
// string is a uint32 byte length followed by its UTF-8 bytes. Nothing
// separates the fields and nothing follows SHA256.
func (s *Segment) SigningBytes() []byte {
	n := 4 + len(SigningDomain) + 4 + len(s.Stream) + 4 + len(s.Broadcast) + 4 + len(s.Rendition) +
		1 + 8 + 4 + 8 + 8 + 1 + 8 + 8 + 32
	b := make([]byte, 0, n)
	b = appendString(b, SigningDomain)
	b = appendString(b, s.Stream)
	b = appendString(b, s.Broadcast)
	b = appendString(b, s.Rendition)
	b = append(b, byte(s.Kind))
	b = binary.BigEndian.AppendUint64(b, s.Sequence)
	b = binary.BigEndian.AppendUint32(b, s.Discontinuity)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Start))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Duration))
	if s.ProgramDateTime.IsZero() {
		b = append(b, 0)
		b = binary.BigEndian.AppendUint64(b, 0)
	} else {
		b = append(b, 1)
		b = binary.BigEndian.AppendUint64(b, uint64(s.ProgramDateTime.UnixNano()))
	}
	b = binary.BigEndian.AppendUint64(b, s.Length)
	b = append(b, s.SHA256[:]...)
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Seal returns s with Length and SHA256 computed from data and Signature set
// by key. It first brings the times to the precision of the JSON form:
// Start and Duration are truncated to whole microseconds, ProgramDateTime to
// whole milliseconds in UTC. Seal does not validate s; call Validate on the
// result. If key is not a well-formed Ed25519 private key, the returned
// record has no Signature (and so fails Verify).
func Seal(s Segment, data []byte, key ed25519.PrivateKey) Segment {
	s.Start = s.Start.Truncate(time.Microsecond)
	s.Duration = s.Duration.Truncate(time.Microsecond)
	if !s.ProgramDateTime.IsZero() {
		s.ProgramDateTime = s.ProgramDateTime.UTC().Truncate(time.Millisecond)
	}
	s.Length = uint64(len(data))
	s.SHA256 = sha256.Sum256(data)
	s.Signature = nil
	if len(key) == ed25519.PrivateKeySize {
		s.Signature = ed25519.Sign(key, s.SigningBytes())
	}
	return s
}

// Verify checks the record's signature against pub. It returns ErrBadSignature
// when the signature is missing or wrong, ErrBadPublicKey when pub is malformed.
func (s *Segment) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: %d bytes", ErrBadPublicKey, len(pub))
	}
	if len(s.Signature) != signatureSize || !ed25519.Verify(pub, s.SigningBytes(), s.Signature) {
		return ErrBadSignature
	}
	return nil
}

// VerifyData checks the signature (as Verify), then that data has the
// record's Length (ErrLengthMismatch) and SHA256 (ErrHashMismatch).
func (s *Segment) VerifyData(pub ed25519.PublicKey, data []byte) error {
	if err := s.Verify(pub); err != nil {
		return err
	}
	if uint64(len(data)) != s.Length {
		return fmt.Errorf("%w: got %d bytes, record says %d", ErrLengthMismatch, len(data), s.Length)
	}
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], s.SHA256[:]) {
		return ErrHashMismatch
	}
	return nil
}
