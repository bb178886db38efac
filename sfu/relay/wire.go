package relay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/proto"
)

// ProtocolID is the relay protocol.
const ProtocolID = "/canopy/rtp/1.0.0"

// Limits of the wire format.
const (
	maxFrame  = 1500 // an RTP or RTCP packet
	maxString = 255
)

// Track names on the wire.
const (
	TrackVideo    = "video"     // the (best) video layer
	TrackVideoLow = "video-low" // the smaller video layer, when the stream has one
	TrackAudio    = "audio"
)

// trackNames are the tracks a follower pulls, in the order Tracks lists them.
var trackNames = [...]string{TrackVideo, TrackVideoLow, TrackAudio}

// Status of a response.
const (
	statusOK      = 0
	statusMissing = 1 // no such stream or track here (yet)
)

// ErrWire: a malformed request, response or frame.
var ErrWire = errors.New("relay: malformed message")

// ErrMissing: the parent has no such stream or track.
var ErrMissing = errors.New("relay: parent has no such track")

// request is what a child asks for:
//
//	u8 len(stream) stream
//	u8 len(track)  track   ("video" or "audio")
type request struct {
	Stream, Track string
}

func (r request) encode() []byte {
	b := []byte{byte(len(r.Stream))}
	b = append(b, r.Stream...)
	b = append(b, byte(len(r.Track)))
	return append(b, r.Track...)
}

func readString(r io.Reader) (string, error) {
	var l [1]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return "", err
	}
	b := make([]byte, l[0])
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

func readRequest(r io.Reader) (request, error) {
	var q request
	var err error
	if q.Stream, err = readString(r); err != nil {
		return q, fmt.Errorf("%w: stream: %w", ErrWire, err)
	}
	if !proto.ValidName(q.Stream) {
		return q, fmt.Errorf("%w: stream name %q", ErrWire, q.Stream)
	}
	if q.Track, err = readString(r); err != nil {
		return q, fmt.Errorf("%w: track: %w", ErrWire, err)
	}
	if q.Track != TrackVideo && q.Track != TrackVideoLow && q.Track != TrackAudio {
		return q, fmt.Errorf("%w: track %q", ErrWire, q.Track)
	}
	return q, nil
}

// codec header of an OK response:
//
//	u8 status (0)
//	u8 len(mime) mime
//	u32 clock rate
//	u8 channels
//	u8 len(fmtp) fmtp
func encodeCodec(c webrtc.RTPCodecCapability) []byte {
	b := []byte{statusOK, byte(len(c.MimeType))}
	b = append(b, c.MimeType...)
	b = binary.BigEndian.AppendUint32(b, c.ClockRate)
	b = append(b, byte(c.Channels), byte(len(c.SDPFmtpLine)))
	return append(b, c.SDPFmtpLine...)
}

func readCodec(r io.Reader) (webrtc.RTPCodecCapability, error) {
	var c webrtc.RTPCodecCapability
	var st [1]byte
	if _, err := io.ReadFull(r, st[:]); err != nil {
		return c, fmt.Errorf("%w: status: %w", ErrWire, err)
	}
	if st[0] == statusMissing {
		return c, ErrMissing
	}
	if st[0] != statusOK {
		return c, fmt.Errorf("%w: status %d", ErrWire, st[0])
	}
	var err error
	if c.MimeType, err = readString(r); err != nil {
		return c, fmt.Errorf("%w: mime: %w", ErrWire, err)
	}
	if !strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) && !strings.EqualFold(c.MimeType, webrtc.MimeTypeOpus) {
		return c, fmt.Errorf("%w: codec %q", ErrWire, c.MimeType)
	}
	var fixed [5]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return c, fmt.Errorf("%w: clock: %w", ErrWire, err)
	}
	c.ClockRate = binary.BigEndian.Uint32(fixed[:4])
	c.Channels = uint16(fixed[4])
	if c.ClockRate == 0 {
		return c, fmt.Errorf("%w: zero clock rate", ErrWire)
	}
	if c.SDPFmtpLine, err = readString(r); err != nil {
		return c, fmt.Errorf("%w: fmtp: %w", ErrWire, err)
	}
	return c, nil
}

// writeFrame writes one length-prefixed packet.
func writeFrame(w io.Writer, b []byte) error {
	if len(b) == 0 || len(b) > maxFrame {
		return fmt.Errorf("%w: frame of %d bytes", ErrWire, len(b))
	}
	buf := make([]byte, 2, 2+len(b))
	binary.BigEndian.PutUint16(buf, uint16(len(b)))
	_, err := w.Write(append(buf, b...))
	return err
}

// readFrame reads one length-prefixed packet into buf (at least maxFrame).
func readFrame(r io.Reader, buf []byte) (int, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return 0, err
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n == 0 || n > maxFrame {
		return 0, fmt.Errorf("%w: frame of %d bytes", ErrWire, n)
	}
	if _, err := io.ReadFull(r, buf[:n]); err != nil {
		return 0, err
	}
	return n, nil
}
