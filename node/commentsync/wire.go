package commentsync

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/canopylive/canopy/node/comments"
	"github.com/canopylive/canopy/proto"
)

// request asks for up to Limit comments of Stream after cursor After.
//
// Binary form (all integers big-endian, strings length-prefixed by one byte):
//
//	u8  len(stream)  stream   (1..proto.MaxNameLength bytes)
//	i64 after.HLC.WallMS
//	u32 after.HLC.Logical
//	u8  len(after.ID) after.ID (0..comments.IDLength bytes)
//	u32 limit                  (1..MaxPageSize)
//
// The response is a sequence of comments, each as uvarint(len) followed by
// comments.Encode bytes (len 1..MaxMessageSize), ended by uvarint 0.
type request struct {
	Stream string
	After  comments.Cursor
	Limit  int
}

func (r request) encode() []byte {
	b := make([]byte, 0, 2+len(r.Stream)+len(r.After.ID)+16)
	b = append(b, byte(len(r.Stream)))
	b = append(b, r.Stream...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.After.HLC.WallMS))
	b = binary.BigEndian.AppendUint32(b, r.After.HLC.Logical)
	b = append(b, byte(len(r.After.ID)))
	b = append(b, r.After.ID...)
	return binary.BigEndian.AppendUint32(b, uint32(r.Limit))
}

func readString(r io.Reader, maxLen int) (string, error) {
	var l [1]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return "", err
	}
	if int(l[0]) > maxLen {
		return "", fmt.Errorf("%w: string of %d bytes, max %d", ErrWire, l[0], maxLen)
	}
	b := make([]byte, l[0])
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// readRequest parses a request and checks its bounds.
func readRequest(r io.Reader) (request, error) {
	var q request
	var err error
	if q.Stream, err = readString(r, proto.MaxNameLength); err != nil {
		return q, fmt.Errorf("%w: stream: %w", ErrWire, err)
	}
	if err := comments.ValidateStream(q.Stream); err != nil {
		return q, fmt.Errorf("%w: %w", ErrWire, err)
	}
	var fixed [12]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return q, fmt.Errorf("%w: cursor: %w", ErrWire, err)
	}
	q.After.HLC.WallMS = int64(binary.BigEndian.Uint64(fixed[:8]))
	q.After.HLC.Logical = binary.BigEndian.Uint32(fixed[8:])
	if q.After.HLC.WallMS < 0 {
		return q, fmt.Errorf("%w: negative cursor", ErrWire)
	}
	if q.After.ID, err = readString(r, comments.IDLength); err != nil {
		return q, fmt.Errorf("%w: cursor id: %w", ErrWire, err)
	}
	var lim [4]byte
	if _, err := io.ReadFull(r, lim[:]); err != nil {
		return q, fmt.Errorf("%w: limit: %w", ErrWire, err)
	}
	l := binary.BigEndian.Uint32(lim[:])
	if l == 0 || l > MaxPageSize {
		return q, fmt.Errorf("%w: limit %d not in 1..%d", ErrWire, l, MaxPageSize)
	}
	q.Limit = int(l)
	return q, nil
}

// writeComments writes the response body: each encoded comment, then 0.
func writeComments(w io.Writer, cs []comments.Comment) error {
	bw := bufio.NewWriter(w)
	for _, c := range cs {
		b, err := comments.Encode(c)
		if err != nil {
			return err
		}
		if len(b) > MaxMessageSize {
			continue // cannot happen for a stored (validated) comment
		}
		bw.Write(binary.AppendUvarint(nil, uint64(len(b))))
		bw.Write(b)
	}
	bw.Write([]byte{0})
	return bw.Flush()
}

// readComments parses a response of at most limit comments. The comments
// are decoded, not validated: the caller validates each.
func readComments(r io.Reader, limit int) ([]comments.Comment, error) {
	br := bufio.NewReader(r)
	var out []comments.Comment
	for {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return out, fmt.Errorf("%w: length: %w", ErrWire, err)
		}
		if n == 0 {
			return out, nil
		}
		if n > MaxMessageSize {
			return out, fmt.Errorf("%w: comment of %d bytes", ErrTooLarge, n)
		}
		if len(out) == limit {
			return out, fmt.Errorf("%w: more than %d comments", ErrWire, limit)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return out, fmt.Errorf("%w: body: %w", ErrWire, err)
		}
		c, err := comments.Decode(b)
		if err != nil {
			return out, fmt.Errorf("%w: %w", ErrWire, err)
		}
		out = append(out, c)
	}
}
