package relay

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/sfu"
)

// Timing of the relay protocol.
const (
	requestTimeout = 5 * time.Second
	writeTimeout   = 2 * time.Second
)

// Source gives the sfu tracks of a stream (as whep.Source does).
type Source interface {
	Tracks(stream string) []*sfu.Track
}

// ServerParams configures a Server.
type ServerParams struct {
	Host   host.Host
	Source Source
	Logger *slog.Logger
}

// Server sends tracks to the children that ask, on the relay protocol.
type Server struct {
	p   ServerParams
	log *slog.Logger

	mu     sync.Mutex
	active map[network.Stream]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewServer returns a Server; Start registers it on the host.
func NewServer(p ServerParams) (*Server, error) {
	if p.Host == nil || p.Source == nil {
		return nil, fmt.Errorf("relay: Host and Source are required")
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	return &Server{p: p, log: p.Logger.With("component", "rtp-relay"), active: map[network.Stream]struct{}{}}, nil
}

// Start serves the protocol.
func (s *Server) Start() { s.p.Host.SetStreamHandler(ProtocolID, s.handle) }

// Close stops serving and ends every child's stream.
func (s *Server) Close() error {
	s.p.Host.RemoveStreamHandler(ProtocolID)
	s.mu.Lock()
	s.closed = true
	for st := range s.active {
		_ = st.Reset()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// findTrack picks the track a request names from a Source's tracks: the
// one whose ID is the name ("video", "video-low", "audio"). Matching by
// position instead would, while a node has pulled its low layer but not
// yet its top one, pass the low layer on as "video".
func findTrack(tracks []*sfu.Track, name string) *sfu.Track {
	for _, t := range tracks {
		if t.ID() == name {
			return t
		}
	}
	return nil
}

func (s *Server) handle(st network.Stream) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = st.Reset()
		return
	}
	s.active[st] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.active, st)
		s.mu.Unlock()
		s.wg.Done()
	}()
	_ = st.SetDeadline(time.Now().Add(requestTimeout))
	q, err := readRequest(st)
	if err != nil {
		s.log.Debug("bad relay request", "peer", st.Conn().RemotePeer(), "err", err)
		_ = st.Reset()
		return
	}
	t := findTrack(s.p.Source.Tracks(q.Stream), q.Track)
	if t == nil {
		_, _ = st.Write([]byte{statusMissing})
		_ = st.Close()
		return
	}
	if _, err := st.Write(encodeCodec(t.Codec())); err != nil {
		_ = st.Reset()
		return
	}
	_ = st.SetDeadline(time.Time{})
	ctx := newStreamContext(st, t.Codec())
	dt := t.NewDownTrack()
	if _, err := dt.Bind(ctx); err != nil {
		s.log.Warn("relay bind", "stream", q.Stream, "track", q.Track, "err", err)
		_ = st.Reset()
		return
	}
	s.log.Debug("child attached", "stream", q.Stream, "track", q.Track, "peer", st.Conn().RemotePeer())
	<-ctx.done
	_ = dt.Unbind(ctx)
	_ = dt.Close()
	_ = st.Reset()
}

// streamContext binds an sfu.DownTrack to a libp2p stream: what pion's
// sender would give it, over the relay protocol.
type streamContext struct {
	st     network.Stream
	codec  webrtc.RTPCodecParameters
	ssrc   webrtc.SSRC
	id     string
	wmu    sync.Mutex
	done   chan struct{}
	finish sync.Once
}

func newStreamContext(st network.Stream, c webrtc.RTPCodecCapability) *streamContext {
	var b [4]byte
	_, _ = rand.Read(b[:])
	pt := webrtc.PayloadType(96)
	if c.MimeType == webrtc.MimeTypeOpus {
		pt = 111
	}
	return &streamContext{st: st, codec: webrtc.RTPCodecParameters{RTPCodecCapability: c, PayloadType: pt},
		ssrc: webrtc.SSRC(binary.BigEndian.Uint32(b[:]) | 1), id: st.ID(), done: make(chan struct{})}
}

func (c *streamContext) end() { c.finish.Do(func() { close(c.done) }) }

func (c *streamContext) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{c.codec}
}
func (c *streamContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (c *streamContext) SSRC() webrtc.SSRC                                      { return c.ssrc }
func (c *streamContext) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (c *streamContext) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (c *streamContext) WriteStream() webrtc.TrackLocalWriter                   { return c }
func (c *streamContext) ID() string                                             { return c.id }
func (c *streamContext) RTCPReader() interceptor.RTCPReader                     { return c }

// WriteRTP sends one packet to the child.
func (c *streamContext) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	p := rtp.Packet{Header: *h, Payload: payload}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b, err := p.Marshal()
	if err != nil {
		return 0, err
	}
	return c.writeLocked(b)
}

// Write sends one marshalled packet to the child.
func (c *streamContext) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

func (c *streamContext) writeLocked(b []byte) (int, error) {
	_ = c.st.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := writeFrame(c.st, b); err != nil {
		c.end()
		return 0, err
	}
	return len(b), nil
}

// Read returns the child's next RTCP packet (keyframe requests).
func (c *streamContext) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	if len(b) < maxFrame {
		b2 := make([]byte, maxFrame)
		n, err := readFrame(c.st, b2)
		if err != nil {
			c.end()
			return 0, a, err
		}
		return copy(b, b2[:n]), a, nil
	}
	n, err := readFrame(c.st, b)
	if err != nil {
		c.end()
		return 0, a, err
	}
	return n, a, nil
}
