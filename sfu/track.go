package sfu

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Defaults for TrackParams.
const (
	DefaultVideoBufferPackets = 1024
	DefaultAudioBufferPackets = 128
	DefaultQueueSize          = 512
	DefaultKeyframeInterval   = 500 * time.Millisecond
	// MaxBufferPackets bounds BufferPackets: beyond half the 16-bit sequence
	// space, sequence numbers in the ring would be ambiguous.
	MaxBufferPackets = 1 << 15
)

// TrackParams configures a Track.
type TrackParams struct {
	ID       string // track id, e.g. "video" / "audio"
	StreamID string // the Canopy stream name, used as the WebRTC stream id (msid)
	// Codec of the upstream media, e.g. H.264 {MimeType: webrtc.MimeTypeH264,
	// ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	// or Opus {MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}.
	// Video must be H.264 (keyframe detection); any audio codec works.
	Codec webrtc.RTPCodecCapability
	// BufferPackets is the shared retransmission ring size in packets;
	// default 1024 for video, 128 for audio; at most MaxBufferPackets.
	BufferPackets int
	// QueueSize is each viewer's packet queue; default 512. A full queue
	// drops (counted) and the viewer waits for the next keyframe.
	QueueSize int
	// RequestKeyframe, optional, asks upstream for a keyframe. The Track
	// coalesces viewers' requests (PLI/FIR, its own when a viewer joins or
	// the upstream switches) and calls it at most once per KeyframeInterval
	// (a Switch always calls it). It is called synchronously from WriteRTP,
	// Switch, Bind or a viewer's RTCP goroutine, never with a lock held, and
	// must not block. Not called for audio tracks.
	RequestKeyframe  func()
	KeyframeInterval time.Duration // default 500 ms
	// RetransmitShare and RetransmitBurst bound each viewer's
	// retransmissions: over the last second, at most RetransmitShare ×
	// the bytes it was forwarded + RetransmitBurst bytes; NACKs beyond are
	// ignored (counted as NACKsOverBudget). Defaults
	// DefaultRetransmitShare and DefaultRetransmitBurst; a negative share
	// means no limit. A layered DownTrack uses its first layer's.
	RetransmitShare float64
	RetransmitBurst int
	Logger          *slog.Logger // default: discard
	Now             func() time.Time
}

// Track is one upstream media track fanned out to many viewers. It is safe
// for concurrent use.
type Track struct {
	p    TrackParams
	kind webrtc.RTPCodecType
	log  *slog.Logger

	mu      sync.Mutex
	closed  bool
	ring    *ring
	sinks   []*sink
	gen     uint32 // upstream source generation
	upSSRC  uint32
	hasSSRC bool
	kf      keyframeDetector
	co      coalescer
	in      meter // upstream bytes, for Bitrate
	// counters guarded by mu
	packetsIn, keyframes, switches, late uint64

	// counters updated by viewers' goroutines
	dropped, nacks, retransmitted, overBudget atomic.Uint64
}

// NewTrack validates p, fills in defaults and returns a Track.
func NewTrack(p TrackParams) (*Track, error) {
	kind := kindOf(p.Codec)
	switch {
	case p.ID == "" || p.StreamID == "":
		return nil, fmt.Errorf("%w: ID and StreamID are required", ErrParams)
	case kind == 0:
		return nil, fmt.Errorf("%w: codec %q is neither audio nor video", ErrParams, p.Codec.MimeType)
	case kind == webrtc.RTPCodecTypeVideo && !isH264(p.Codec):
		return nil, fmt.Errorf("%w: video codec %q: only H.264 is supported", ErrParams, p.Codec.MimeType)
	case p.Codec.ClockRate == 0:
		return nil, fmt.Errorf("%w: codec clock rate is required", ErrParams)
	case p.BufferPackets < 0 || p.BufferPackets > MaxBufferPackets:
		return nil, fmt.Errorf("%w: BufferPackets %d not in [0, %d]", ErrParams, p.BufferPackets, MaxBufferPackets)
	case p.QueueSize < 0:
		return nil, fmt.Errorf("%w: QueueSize %d < 0", ErrParams, p.QueueSize)
	case p.RetransmitBurst < 0:
		return nil, fmt.Errorf("%w: RetransmitBurst %d < 0", ErrParams, p.RetransmitBurst)
	case p.KeyframeInterval < 0:
		return nil, fmt.Errorf("%w: KeyframeInterval %v < 0", ErrParams, p.KeyframeInterval)
	}
	if p.BufferPackets == 0 {
		p.BufferPackets = DefaultVideoBufferPackets
		if kind == webrtc.RTPCodecTypeAudio {
			p.BufferPackets = DefaultAudioBufferPackets
		}
	}
	if p.QueueSize == 0 {
		p.QueueSize = DefaultQueueSize
	}
	if p.KeyframeInterval == 0 {
		p.KeyframeInterval = DefaultKeyframeInterval
	}
	if p.RetransmitShare == 0 {
		p.RetransmitShare = DefaultRetransmitShare
	}
	if p.RetransmitBurst == 0 {
		p.RetransmitBurst = DefaultRetransmitBurst
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	return &Track{
		p:    p,
		kind: kind,
		log:  p.Logger.With("component", "sfu", "stream", p.StreamID, "track", p.ID),
		ring: newRing(p.BufferPackets),
		co:   coalescer{interval: p.KeyframeInterval},
		in:   newMeter(bitrateWindow, bitrateBuckets),
	}, nil
}

// Kind is the Track's media kind.
func (t *Track) Kind() webrtc.RTPCodecType { return t.kind }

// ID is the Track's id as given in TrackParams.
func (t *Track) ID() string { return t.p.ID }

// Codec is the Track's codec as given in TrackParams.
func (t *Track) Codec() webrtc.RTPCodecCapability { return t.p.Codec }

func (t *Track) video() bool { return t.kind == webrtc.RTPCodecTypeVideo }

// WriteRTP takes one upstream packet: it is copied into the shared ring and
// queued to every viewer. It never blocks on a viewer. p is not retained.
// A packet with a new upstream SSRC is handled as a Switch.
func (t *Track) WriteRTP(p *rtp.Packet) error {
	if p == nil {
		return fmt.Errorf("%w: nil packet", ErrParams)
	}
	e := newPacket(p)
	now := t.p.Now()

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return fmt.Errorf("track %s/%s: %w", t.p.StreamID, t.p.ID, ErrClosed)
	}
	fire := false
	if t.hasSSRC && p.SSRC != t.upSSRC {
		fire = t.switchLocked(now)
	}
	t.upSSRC, t.hasSSRC = p.SSRC, true
	e.gen = t.gen
	if t.video() {
		e.keyframe = t.kf.start(e.ts, e.payload)
		if e.keyframe {
			t.keyframes++
		}
		if t.co.packet(now, e.keyframe) {
			fire = true
		}
	} else {
		e.keyframe = true
	}
	t.packetsIn++
	t.in.add(now, e.size())
	if t.ring.push(e) {
		for _, s := range t.sinks {
			s.forward(t, e, now)
		}
	} else {
		t.late++ // older than the whole ring: too late for anyone
	}
	t.mu.Unlock()

	if fire {
		t.sendKeyframeRequest()
	}
	return nil
}

// Switch tells the Track that its upstream source changed (a relay node
// switched parent, or the origin restarted its encoder): upstream sequence
// numbers and timestamps jump from the next packet on. Every viewer keeps
// its outgoing sequence numbers continuous (+1) and advances its timestamps
// by the wall-clock gap, and (video) waits for the next keyframe; the ring
// is emptied and a keyframe is requested upstream at once. A packet with a
// different SSRC than the previous one implies a Switch, so calling Switch
// is only needed when the new source keeps the SSRC.
func (t *Track) Switch() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	fire := t.switchLocked(t.p.Now())
	t.hasSSRC = false // the new source's SSRC is not another switch
	t.mu.Unlock()
	if fire {
		t.sendKeyframeRequest()
	}
}

// switchLocked starts a new upstream generation; it reports whether to
// request a keyframe.
func (t *Track) switchLocked(now time.Time) bool {
	t.gen++
	t.switches++
	t.ring.reset()
	t.kf.reset()
	for _, s := range t.sinks {
		s.resync(t)
	}
	t.log.Debug("upstream switch", "generation", t.gen)
	if !t.video() {
		return false
	}
	t.co.force(now)
	return true
}

// NewDownTrack returns a new viewer's track; add it to a PeerConnection with
// pc.AddTrack. It receives packets once pion binds it.
func (t *Track) NewDownTrack() *DownTrack {
	return &DownTrack{tracks: []*Track{t}}
}

// Bitrate is the Track's upstream bitrate in bits/s (RTP payload and
// header) over the last two seconds.
func (t *Track) Bitrate() int {
	now := t.p.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.in.bitrate(now)
}

// bitrateWindow is the window of Bitrate.
const (
	bitrateWindow  = 2 * time.Second
	bitrateBuckets = 8
)

// attach adds a bound viewer and, if it is to be forwarded this Track's
// packets now (key), requests a keyframe for it.
func (t *Track) attach(s *sink, key bool) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return fmt.Errorf("track %s/%s: %w", t.p.StreamID, t.p.ID, ErrClosed)
	}
	t.sinks = append(t.sinks, s)
	fire := key && t.video() && t.co.request(t.p.Now())
	n := len(t.sinks)
	t.mu.Unlock()
	t.log.Debug("viewer bound", "ssrc", s.ssrc, "payload_type", s.pt, "viewers", n)
	if fire {
		t.sendKeyframeRequest()
	}
	return nil
}

// detach removes a viewer; it is a no-op if the viewer is not attached.
func (t *Track) detach(s *sink) {
	t.mu.Lock()
	t.sinks = slices.DeleteFunc(t.sinks, func(x *sink) bool { return x == s })
	t.mu.Unlock()
}

// keyframeRequest is a viewer's PLI or FIR, its sender's need to restart,
// or its move to this layer.
func (t *Track) keyframeRequest() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	fire := t.video() && t.co.request(t.p.Now())
	t.mu.Unlock()
	if fire {
		t.sendKeyframeRequest()
	}
}

func (t *Track) sendKeyframeRequest() {
	if t.p.RequestKeyframe != nil {
		t.p.RequestKeyframe()
	}
}

// Stats returns the Track's counters.
func (t *Track) Stats() TrackStats {
	now := t.p.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	viewers := 0
	for _, s := range t.sinks {
		if s.forwarding(t) {
			viewers++
		}
	}
	return TrackStats{
		PacketsIn:                  t.packetsIn,
		Bitrate:                    t.in.bitrate(now),
		Keyframes:                  t.keyframes,
		Viewers:                    viewers,
		Switches:                   t.switches,
		Late:                       t.late,
		Dropped:                    t.dropped.Load(),
		NACKs:                      t.nacks.Load(),
		Retransmitted:              t.retransmitted.Load(),
		NACKsOverBudget:            t.overBudget.Load(),
		KeyframeRequests:           t.co.sent,
		KeyframeRequestsSuppressed: t.co.suppressed,
	}
}

// Close ends every DownTrack's writer goroutine and detaches them; later
// WriteRTP and Bind return ErrClosed. It is idempotent.
func (t *Track) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	sinks := t.sinks
	t.sinks = nil
	t.mu.Unlock()
	for _, s := range sinks {
		s.stop()
	}
	return nil
}
