package sfu

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// DownTrack is one viewer's copy of a Track, or of one of several Tracks
// (layers; see NewLayeredDownTrack). It implements webrtc.TrackLocal: add
// it to the viewer's PeerConnection with pc.AddTrack. A DownTrack is bound
// to one sender at a time. While bound it reads that sender's RTCP itself,
// so nothing else may read RTCP from the RTPSender.
type DownTrack struct {
	tracks []*Track // best first; one for Track.NewDownTrack
	lp     LayeredParams
	c      downCounters

	mu     sync.Mutex
	closed bool
	cur    *sink
	ctxID  string
}

var _ webrtc.TrackLocal = (*DownTrack)(nil)

// LayeredParams configures NewLayeredDownTrack.
type LayeredParams struct {
	// Tracks are the layers, best (highest bitrate) first: H.264 video
	// Tracks of one stream, e.g. the rungs of one encoder's ladder. At
	// least one.
	Tracks []*Track
	// Policy decides when to switch; zero fields take the defaults.
	Policy LayerPolicy
	// Estimator, optional, overrides the bandwidth estimator that the
	// DownTrack finds in its sender's RTCP (that of NewAPI). With neither,
	// the viewer stays on its start layer.
	Estimator BandwidthEstimator
	// OnSwitch, optional, is told of each cut-over from one layer to
	// another. It is called with internal locks held: it must not block
	// or call into this package.
	OnSwitch func(from, to int)
}

// NewLayeredDownTrack returns one viewer's video that is sent one of
// p.Tracks at a time and moves between them as its bandwidth estimate
// allows (see LayerPolicy). It starts on the lowest layer until the first
// estimate, which picks the best layer it allows at once (with NewAPI's
// estimator: the initial bitrate). A switch asks the target layer for a
// keyframe and cuts over at its next keyframe start, continuing the
// viewer's sequence numbers (+1) and timestamps (advanced by the
// wall-clock gap), as a Track.Switch does, so the picture never breaks.
// Its ID, StreamID and codec are those of the first layer; layers the
// viewer's negotiated codec cannot decode are left out at Bind.
func NewLayeredDownTrack(p LayeredParams) (*DownTrack, error) {
	if len(p.Tracks) == 0 {
		return nil, fmt.Errorf("%w: no layers", ErrParams)
	}
	first := p.Tracks[0]
	for _, t := range p.Tracks {
		if t == nil {
			return nil, fmt.Errorf("%w: nil layer", ErrParams)
		}
		if !t.video() || t.p.StreamID != first.p.StreamID || t.p.Codec.ClockRate != first.p.Codec.ClockRate {
			return nil, fmt.Errorf("%w: layer %s/%s is not video of stream %s", ErrParams, t.p.StreamID, t.p.ID, first.p.StreamID)
		}
	}
	pol, err := p.Policy.withDefaults()
	if err != nil {
		return nil, err
	}
	p.Policy = pol
	p.Tracks = append([]*Track(nil), p.Tracks...)
	return &DownTrack{tracks: p.Tracks, lp: p}, nil
}

// ID is the (first) Track's id.
func (d *DownTrack) ID() string { return d.tracks[0].p.ID }

// RID is empty: no simulcast.
func (d *DownTrack) RID() string { return "" }

// StreamID is the Canopy stream name.
func (d *DownTrack) StreamID() string { return d.tracks[0].p.StreamID }

// Kind is the Track's media kind.
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.tracks[0].kind }

// Bind is called by pion once negotiation is done. It picks the negotiated
// codec that carries the Track's media (webrtc.ErrUnsupportedCodec if none),
// records the viewer's SSRC, payload type and write stream, starts its
// writer and RTCP goroutines (and, layered, the one that chooses layers),
// attaches it to the Track(s) and requests a keyframe. The viewer receives
// nothing until the next keyframe.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	first := d.tracks[0]
	codec, err := matchCodec(first.p.Codec, ctx.CodecParameters())
	if err != nil {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("bind %s/%s: %w", first.p.StreamID, first.p.ID, err)
	}
	tracks := d.tracks
	if len(tracks) > 1 {
		tracks = nil
		for _, t := range d.tracks {
			if !isH264(t.p.Codec) || h264Score(t.p.Codec.SDPFmtpLine, codec.SDPFmtpLine) > 0 {
				tracks = append(tracks, t)
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return webrtc.RTPCodecParameters{}, fmt.Errorf("bind %s/%s: downtrack: %w", first.p.StreamID, first.p.ID, ErrClosed)
	case d.cur != nil:
		return webrtc.RTPCodecParameters{}, fmt.Errorf("bind %s/%s to %s: %w", first.p.StreamID, first.p.ID, ctx.ID(), ErrAlreadyBound)
	}
	start := len(tracks) - 1 // the lowest until the first estimate
	s := newSink(sinkParams{tracks: tracks, c: &d.c, ssrc: uint32(ctx.SSRC()), pt: uint8(codec.PayloadType),
		w: ctx.WriteStream(), start: start, seqStart: uint16(rand.Uint32()), tsStart: rand.Uint32(), onSwitch: d.lp.OnSwitch})
	if d.lp.Estimator != nil {
		s.est.Store(&d.lp.Estimator)
	}
	d.c.layer.Store(int64(start))
	d.c.target.Store(int64(start))
	s.startWriter()
	for i, t := range tracks {
		if err := t.attach(s, i == start); err != nil {
			for _, t := range tracks[:i] {
				t.detach(s)
			}
			s.stop()
			return webrtc.RTPCodecParameters{}, fmt.Errorf("bind: %w", err)
		}
	}
	if len(tracks) > 1 {
		s.wg.Add(1)
		go s.runLayers(d.lp.Policy)
	}
	s.startRTCP(ctx.RTCPReader())
	d.cur, d.ctxID = s, ctx.ID()
	return codec, nil
}

// release detaches s from its Tracks and ends its goroutines.
func release(s *sink) {
	for _, t := range s.tracks {
		t.detach(s)
	}
	s.stop()
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
		return fmt.Errorf("unbind %s/%s from %s: %w", d.tracks[0].p.StreamID, d.tracks[0].p.ID, ctx.ID(), ErrNotBound)
	}
	d.cur = nil
	d.mu.Unlock()
	release(s)
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
		release(s)
	}
	return nil
}

// Stats returns the viewer's counters.
func (d *DownTrack) Stats() DownTrackStats {
	st := d.c.snapshot()
	d.mu.Lock()
	s := d.cur
	d.mu.Unlock()
	if s != nil {
		if e := s.estimator(); e != nil {
			st.Estimate = e.GetTargetBitrate()
		}
	}
	return st
}

// runLayers chooses the viewer's layer every p.Interval until stop.
func (s *sink) runLayers(p LayerPolicy) {
	defer s.wg.Done()
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	ch := newChooser(p, len(s.tracks)-1)
	rates := make([]int, len(s.tracks))
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		s.chooseLayer(&ch, rates)
	}
}

// chooseLayer makes one choice and, if it changed, asks for the layer.
func (s *sink) chooseLayer(ch *chooser, rates []int) {
	e := s.estimator()
	if e == nil {
		return
	}
	for i, t := range s.tracks {
		rates[i] = t.Bitrate()
	}
	want := ch.decide(s.now(), e.GetTargetBitrate(), rates)
	s.c.target.Store(int64(want))
	if s.switchTo(want) {
		// Until the cut-over, at each choice: the Track coalesces.
		s.tracks[want].keyframeRequest()
	}
}
