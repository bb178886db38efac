package transcode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// MaxBoxSize is the largest top-level box the splitter accepts. A 2 s
// fragment of the top rung is a few MB; anything bigger is corruption.
const MaxBoxSize = 64 << 20

// Segment is what the Splitter produces: an init segment (ftyp+moov) or one
// media fragment ([styp|sidx|prft|emsg]* moof mdat).
type Segment struct {
	Init bool
	Data []byte // the segment's bytes, owned by the receiver

	Info InitInfo // Init only: what the moov says

	// Media only, from the reference (video) track: tfdt / timescale and the
	// sum of the fragment's sample durations.
	Start, Duration time.Duration
}

// Splitter cuts a stream of top-level ISO-BMFF boxes into init segments and
// media fragments. mfra, free, skip and unknown top-level boxes are skipped.
type Splitter struct {
	r       io.Reader
	init    *initInfo // nil until the first moov
	ftyp    []byte    // pending ftyp (waiting for its moov)
	pending []byte    // pending styp/sidx/prft/emsg/moof of the next fragment
	moofAt  int       // offset of the moof in pending; -1 when none yet
	hdr     [16]byte
}

// NewSplitter returns a Splitter reading from r.
func NewSplitter(r io.Reader) *Splitter {
	return &Splitter{r: r, moofAt: -1}
}

// boxHeader is a parsed top-level box header.
type boxHeader struct {
	typ    string
	size   uint64 // whole box, header included
	hdrLen int
}

// readHeader reads one box header into s.hdr. It returns io.EOF on a clean
// end between boxes and io.ErrUnexpectedEOF inside a header.
func (s *Splitter) readHeader() (boxHeader, error) {
	if _, err := io.ReadFull(s.r, s.hdr[:8]); err != nil {
		return boxHeader{}, err
	}
	h := boxHeader{
		typ:    string(s.hdr[4:8]),
		size:   uint64(binary.BigEndian.Uint32(s.hdr[0:4])),
		hdrLen: 8,
	}
	switch h.size {
	case 0:
		return h, fmt.Errorf("%w: %q box extends to end of stream, which a live stream cannot do", ErrBoxSize, h.typ)
	case 1:
		if _, err := io.ReadFull(s.r, s.hdr[8:16]); err != nil {
			return h, unexpected(err)
		}
		h.size, h.hdrLen = binary.BigEndian.Uint64(s.hdr[8:16]), 16
	}
	if h.size < uint64(h.hdrLen) {
		return h, fmt.Errorf("%w: %q box of %d bytes is smaller than its header", ErrBoxSize, h.typ, h.size)
	}
	if h.size > MaxBoxSize {
		return h, fmt.Errorf("%w: %q box of %d bytes is larger than %d", ErrBoxSize, h.typ, h.size, MaxBoxSize)
	}
	return h, nil
}

// readBox appends the whole box (header and body) to dst. The buffer grows
// with the data actually read, so a lying header costs no memory.
func (s *Splitter) readBox(dst []byte, h boxHeader) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	buf.Write(s.hdr[:h.hdrLen])
	body := int64(h.size) - int64(h.hdrLen)
	n, err := io.CopyN(buf, s.r, body)
	if err != nil || n != body {
		return buf.Bytes(), unexpected(err)
	}
	return buf.Bytes(), nil
}

// skipBox discards the body of a box.
func (s *Splitter) skipBox(h boxHeader) error {
	n := int64(h.size) - int64(h.hdrLen)
	if _, err := io.CopyN(io.Discard, s.r, n); err != nil {
		return unexpected(err)
	}
	return nil
}

// Next returns the next init segment or media fragment. It returns io.EOF
// at a clean end of stream, io.ErrUnexpectedEOF when the stream ends inside
// a box or fragment, and errors wrapping ErrBoxSize, ErrBoxOrder or ErrMP4
// for malformed input.
func (s *Splitter) Next() (Segment, error) {
	for {
		h, err := s.readHeader()
		if err != nil {
			if errors.Is(err, io.EOF) && (len(s.pending) > 0 || s.ftyp != nil) {
				return Segment{}, io.ErrUnexpectedEOF
			}
			return Segment{}, err
		}
		switch h.typ {
		case "ftyp":
			if len(s.pending) > 0 {
				return Segment{}, fmt.Errorf("%w: ftyp inside a fragment", ErrBoxOrder)
			}
			if s.ftyp, err = s.readBox(s.ftyp[:0], h); err != nil {
				return Segment{}, err
			}
		case "moov":
			if len(s.pending) > 0 {
				return Segment{}, fmt.Errorf("%w: moov inside a fragment", ErrBoxOrder)
			}
			data := append([]byte(nil), s.ftyp...)
			s.ftyp = nil
			moovAt := len(data)
			if data, err = s.readBox(data, h); err != nil {
				return Segment{}, err
			}
			info, err := parseInit(data[moovAt:])
			if err != nil {
				return Segment{}, err
			}
			s.init = info
			return Segment{Init: true, Data: data, Info: info.public()}, nil
		case "styp", "sidx", "prft", "emsg":
			if s.moofAt >= 0 {
				return Segment{}, fmt.Errorf("%w: %s between moof and mdat", ErrBoxOrder, h.typ)
			}
			if s.pending, err = s.readBox(s.pending, h); err != nil {
				return Segment{}, err
			}
		case "moof":
			if s.init == nil {
				return Segment{}, fmt.Errorf("%w: moof before any moov", ErrBoxOrder)
			}
			if s.moofAt >= 0 {
				return Segment{}, fmt.Errorf("%w: moof without mdat", ErrBoxOrder)
			}
			s.moofAt = len(s.pending)
			if s.pending, err = s.readBox(s.pending, h); err != nil {
				return Segment{}, err
			}
		case "mdat":
			if s.moofAt < 0 {
				return Segment{}, fmt.Errorf("%w: mdat without moof", ErrBoxOrder)
			}
			data := append([]byte(nil), s.pending...)
			moof := data[s.moofAt:len(s.pending)]
			s.pending, s.moofAt = s.pending[:0], -1
			if data, err = s.readBox(data, h); err != nil {
				return Segment{}, err
			}
			start, dur, err := s.init.fragmentTiming(moof)
			if err != nil {
				return Segment{}, err
			}
			return Segment{Data: data, Start: start, Duration: dur}, nil
		default: // mfra, free, skip, anything else at top level
			if err := s.skipBox(h); err != nil {
				return Segment{}, err
			}
		}
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
