package sfu

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/pion/webrtc/v4"
)

// DownTrack is one viewer's copy of a Track. It implements webrtc.TrackLocal:
// add it to the viewer's PeerConnection with pc.AddTrack. A DownTrack is
// bound to one sender at a time. While bound it reads that sender's RTCP
// itself, so nothing else may read RTCP from the RTPSender.
type DownTrack struct {
	t *Track
	c downCounters

	mu     sync.Mutex
	closed bool
	cur    *sink
	ctxID  string
}

var _ webrtc.TrackLocal = (*DownTrack)(nil)

// ID is the Track's id.
func (d *DownTrack) ID() string { return d.t.p.ID }

// RID is empty: no simulcast.
func (d *DownTrack) RID() string { return "" }

// StreamID is the Canopy stream name.
func (d *DownTrack) StreamID() string { return d.t.p.StreamID }

// Kind is the Track's media kind.
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.t.kind }

// Bind is called by pion once negotiation is done. It picks the negotiated
// codec that carries the Track's media (webrtc.ErrUnsupportedCodec if none),
// records the viewer's SSRC, payload type and write stream, starts its
// writer and RTCP goroutines, attaches it to the Track and requests a
// keyframe. The viewer receives nothing until the next keyframe.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, err := matchCodec(d.t.p.Codec, ctx.CodecParameters())
	if err != nil {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("bind %s/%s: %w", d.t.p.StreamID, d.t.p.ID, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return webrtc.RTPCodecParameters{}, fmt.Errorf("bind %s/%s: downtrack: %w", d.t.p.StreamID, d.t.p.ID, ErrClosed)
	case d.cur != nil:
		return webrtc.RTPCodecParameters{}, fmt.Errorf("bind %s/%s to %s: %w", d.t.p.StreamID, d.t.p.ID, ctx.ID(), ErrAlreadyBound)
	}
	s := newSink(d.t, &d.c, uint32(ctx.SSRC()), uint8(codec.PayloadType), ctx.WriteStream(),
		uint16(rand.Uint32()), rand.Uint32())
	s.startWriter()
	if err := d.t.attach(s); err != nil {
		s.stop()
		return webrtc.RTPCodecParameters{}, fmt.Errorf("bind: %w", err)
	}
	s.startRTCP(ctx.RTCPReader())
	d.cur, d.ctxID = s, ctx.ID()
	return codec, nil
}

// Unbind is called by pion when the sender stops or replaces the track: it
// detaches from the Track and ends the writer goroutine (the RTCP goroutine
// ends when pion closes the sender's stream). Unbinding a DownTrack that is
// not bound (or already closed) is a no-op; a context it is not bound to is
// ErrNotBound.
func (d *DownTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	d.mu.Lock()
	s := d.cur
	if s == nil {
		d.mu.Unlock()
		return nil
	}
	if ctx.ID() != d.ctxID {
		d.mu.Unlock()
		return fmt.Errorf("unbind %s/%s from %s: %w", d.t.p.StreamID, d.t.p.ID, ctx.ID(), ErrNotBound)
	}
	d.cur = nil
	d.mu.Unlock()
	d.t.detach(s)
	s.stop()
	return nil
}

// Close detaches the DownTrack from its Track for good and ends its writer
// goroutine; later Bind returns ErrClosed. It does not remove the track from
// the PeerConnection. It is idempotent.
func (d *DownTrack) Close() error {
	d.mu.Lock()
	d.closed = true
	s := d.cur
	d.cur = nil
	d.mu.Unlock()
	if s != nil {
		d.t.detach(s)
		s.stop()
	}
	return nil
}

// Stats returns the viewer's counters.
func (d *DownTrack) Stats() DownTrackStats { return d.c.snapshot() }
