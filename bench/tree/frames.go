package main

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	gproto "google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// headCap is how much of each frame the scanner keeps: enough for a
// TreeMessage's Segment tag and the whole SegmentRecord before the data.
const headCap = 4 << 10

var (
	// errFrameLength: a length prefix longer than a uvarint or than
	// proto.MaxMessageSize.
	errFrameLength = errors.New("bad frame length")
	// errNotSegment: the frame is not a TreeMessage carrying a Segment.
	errNotSegment = errors.New("not a segment frame")
	// errShortHead: the record did not fit in the kept head.
	errShortHead = errors.New("segment record not in frame head")
)

// frameScanner follows a stream of length-delimited protobuf messages (as
// proto.WriteMessage writes them) without buffering them: it keeps the
// first headCap bytes of each message and reports each one when its last
// byte has passed.
type frameScanner struct {
	inLen  bool // reading a length prefix
	length uint64
	shift  uint
	remain uint64 // body bytes still to come
	head   []byte
	err    error
}

func newFrameScanner() *frameScanner { return &frameScanner{inLen: true} }

// feed consumes p and returns the heads of the messages it completed. After
// an error the scanner stays failed.
func (f *frameScanner) feed(p []byte) ([][]byte, error) {
	var done [][]byte
	for len(p) > 0 && f.err == nil {
		if f.inLen {
			b := p[0]
			p = p[1:]
			if f.shift >= 63 && b > 1 {
				f.err = errFrameLength
				break
			}
			f.length |= uint64(b&0x7f) << f.shift
			f.shift += 7
			if b >= 0x80 {
				continue
			}
			if f.length > proto.MaxMessageSize {
				f.err = fmt.Errorf("%w: %d", errFrameLength, f.length)
				break
			}
			f.inLen, f.remain, f.head = false, f.length, f.head[:0]
		} else {
			n := min(uint64(len(p)), f.remain)
			if keep := headCap - len(f.head); keep > 0 {
				f.head = append(f.head, p[:min(uint64(keep), n)]...)
			}
			p = p[n:]
			f.remain -= n
		}
		if !f.inLen && f.remain == 0 {
			done = append(done, append([]byte(nil), f.head...))
			f.inLen, f.length, f.shift = true, 0, 0
		}
	}
	return done, f.err
}

// segmentID names one segment of the benchmark's stream.
type segmentID struct {
	Rendition string
	Kind      proto.SegmentKind
	Sequence  uint64
}

// parseSegmentHead extracts the record's identity from the head of a
// TreeMessage frame: field 2 (Segment), then its field 1 (SegmentRecord),
// which Go's protobuf marshals before the data.
func parseSegmentHead(head []byte) (segmentID, error) {
	num, typ, n := protowire.ConsumeTag(head)
	if n < 0 || num != 2 || typ != protowire.BytesType {
		return segmentID{}, errNotSegment
	}
	head = head[n:]
	if _, n = protowire.ConsumeVarint(head); n < 0 {
		return segmentID{}, errShortHead
	}
	head = head[n:]
	num, typ, n = protowire.ConsumeTag(head)
	if n < 0 || num != 1 || typ != protowire.BytesType {
		return segmentID{}, errShortHead
	}
	rec, n := protowire.ConsumeBytes(head[n:])
	if n < 0 {
		return segmentID{}, errShortHead
	}
	var pb treepb.SegmentRecord
	if err := gproto.Unmarshal(rec, &pb); err != nil {
		return segmentID{}, fmt.Errorf("%w: %w", errShortHead, err)
	}
	return segmentID{Rendition: pb.Rendition, Kind: proto.SegmentKind(pb.Kind), Sequence: pb.Sequence}, nil
}
