package comments

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto/commentspb"
)

// NonceSize is the length of Comment.Nonce in bytes.
const NonceSize = 16

// IDLength is the length of Comment.ID: lowercase hex of the first 16
// bytes of a SHA-256.
const IDLength = 32

// idDomain separates comment IDs from any other SHA-256 in the project.
const idDomain = "canopy/comment/v1\x00"

// Comment is one viewer comment on a stream.
//
// Its ID is content-derived (see ComputeID), so every node that stores the
// same comment stores it under the same ID: delivery over gossipsub, range
// catch-up and partition healing are idempotent. The Nonce is 16 random
// bytes chosen once by the accepting node: the same text posted twice by
// the same author gets two nonces and so two IDs, while a replayed or
// redelivered message carries the same nonce and so the same ID. A random
// nonce is preferred to the origin node's ID because uniqueness then does
// not depend on the node's clock never repeating a timestamp (after a
// restart with a clock set back) and the ID does not reveal which node a
// viewer posted through.
type Comment struct {
	ID     string
	Stream string
	Author string
	Text   string
	HLC    Timestamp
	Nonce  [NonceSize]byte
}

// NewNonce returns NonceSize random bytes from crypto/rand.
func NewNonce() ([NonceSize]byte, error) {
	var n [NonceSize]byte
	if _, err := rand.Read(n[:]); err != nil {
		return n, fmt.Errorf("comments: nonce: %w", err)
	}
	return n, nil
}

// NewComment returns a comment with its ID computed. It does not validate:
// call Validate (or ValidateText/ValidateAuthor first for clearer errors).
func NewComment(stream, author, text string, ts Timestamp, nonce [NonceSize]byte) Comment {
	c := Comment{Stream: stream, Author: author, Text: text, HLC: ts, Nonce: nonce}
	c.ID = c.ComputeID()
	return c
}

// ComputeID returns the ID that c's content determines: lowercase hex of
// the first 16 bytes of SHA-256 over canonicalBytes.
func (c Comment) ComputeID() string {
	sum := sha256.Sum256(c.canonicalBytes())
	return hex.EncodeToString(sum[:IDLength/2])
}

// canonicalBytes is the canonical encoding the ID hashes:
//
//	"canopy/comment/v1" 0x00
//	uvarint(len(stream)) stream
//	uvarint(len(author)) author
//	uvarint(len(text))   text
//	uint64 big-endian    HLC.WallMS
//	uint32 big-endian    HLC.Logical
//	16 bytes             Nonce
//
// Strings are length-prefixed so that no two different field tuples encode
// to the same bytes.
func (c Comment) canonicalBytes() []byte {
	b := make([]byte, 0, len(idDomain)+3*binary.MaxVarintLen64+len(c.Stream)+len(c.Author)+len(c.Text)+12+NonceSize)
	b = append(b, idDomain...)
	for _, s := range []string{c.Stream, c.Author, c.Text} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(c.HLC.WallMS))
	b = binary.BigEndian.AppendUint32(b, c.HLC.Logical)
	return append(b, c.Nonce[:]...)
}

// Compare orders comments totally by (HLC.WallMS, HLC.Logical, ID): the
// order of Store.Range and of every chat panel.
func Compare(a, b Comment) int {
	if c := a.HLC.Compare(b.HLC); c != 0 {
		return c
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// Cursor is a position in a stream's total order. Store.Range returns the
// comments strictly after it. Cursor{HLC: t} (empty ID) sorts before every
// comment stamped t, so it selects the comments at or after t.
type Cursor struct {
	HLC Timestamp
	ID  string
}

// Cursor returns c's position, to page on after c.
func (c Comment) Cursor() Cursor { return Cursor{HLC: c.HLC, ID: c.ID} }

// Encode returns the wire and storage form of c (protobuf
// commentspb.Comment). It fails (ErrDecode) only when a string field is not
// valid UTF-8, which protobuf refuses; a comment that passed Validate always
// encodes.
func Encode(c Comment) ([]byte, error) {
	b, err := proto.Marshal(toPB(c))
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %w", ErrDecode, err)
	}
	return b, nil
}

func toPB(c Comment) *commentspb.Comment {
	return &commentspb.Comment{
		Id: c.ID, Stream: c.Stream, Author: c.Author, Text: c.Text,
		WallMs: c.HLC.WallMS, Logical: c.HLC.Logical, Nonce: c.Nonce[:],
	}
}

// Decode parses the wire and storage form. It checks the shape only (nonce
// size, non-negative timestamp); a comment received from the network must
// still pass Validate, which checks the text rules and the ID.
func Decode(b []byte) (Comment, error) {
	var m commentspb.Comment
	if err := proto.Unmarshal(b, &m); err != nil {
		return Comment{}, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	if len(m.Nonce) != NonceSize {
		return Comment{}, fmt.Errorf("%w: nonce is %d bytes, want %d", ErrDecode, len(m.Nonce), NonceSize)
	}
	if m.WallMs < 0 {
		return Comment{}, fmt.Errorf("%w: negative timestamp %d", ErrDecode, m.WallMs)
	}
	c := Comment{
		ID: m.Id, Stream: m.Stream, Author: m.Author, Text: m.Text,
		HLC: Timestamp{WallMS: m.WallMs, Logical: m.Logical},
	}
	copy(c.Nonce[:], m.Nonce)
	return c, nil
}
