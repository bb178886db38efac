package sfu

import (
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

const testTimeout = 5 * time.Second

// fakeClock is a settable clock for TrackParams.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeWriter records what a DownTrack writes. Until ready is set it answers
// (0, nil) like pion's sender before SRTP is up; with block set each write
// signals entered and waits for block to be closed.
type fakeWriter struct {
	notReady atomic.Bool
	block    chan struct{}
	entered  chan struct{}
	discard  func() // if set, writes only call it (benchmarks)

	mu       sync.Mutex
	pkts     []rtp.Packet
	attempts int
	wrote    chan struct{}
	closed   chan struct{}
}

func newFakeWriter() *fakeWriter {
	return &fakeWriter{wrote: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (w *fakeWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.discard != nil {
		w.discard()
		return len(payload) + 12, nil
	}
	if w.block != nil {
		select {
		case w.entered <- struct{}{}:
		default:
		}
		select {
		case <-w.block:
		case <-w.closed:
			return 0, io.ErrClosedPipe
		}
	}
	w.mu.Lock()
	w.attempts++
	if w.notReady.Load() {
		w.mu.Unlock()
		w.signal()
		return 0, nil
	}
	w.pkts = append(w.pkts, rtp.Packet{Header: *h, Payload: append([]byte(nil), payload...)})
	w.mu.Unlock()
	w.signal()
	return len(payload) + 12, nil
}

func (w *fakeWriter) signal() {
	select {
	case w.wrote <- struct{}{}:
	default:
	}
}

func (w *fakeWriter) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	return w.WriteRTP(&p.Header, p.Payload)
}

// wait returns the first n packets written, failing after testTimeout.
func (w *fakeWriter) wait(t *testing.T, n int) []rtp.Packet {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		w.mu.Lock()
		if len(w.pkts) >= n {
			out := append([]rtp.Packet(nil), w.pkts[:n]...)
			w.mu.Unlock()
			return out
		}
		got := len(w.pkts)
		w.mu.Unlock()
		select {
		case <-w.wrote:
		case <-deadline:
			t.Fatalf("writer got %d packets, want %d", got, n)
		}
	}
}

func (w *fakeWriter) written() []rtp.Packet {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]rtp.Packet(nil), w.pkts...)
}

// fakeRTCP feeds RTCP to a DownTrack's reader goroutine. Each Read first
// signals reads, so after the reader asks again the previous batch has been
// handled.
type fakeRTCP struct {
	in     chan []byte
	reads  chan struct{}
	closed chan struct{}
	once   sync.Once
	atRead bool // the reader has signalled and waits for input
}

func newFakeRTCP() *fakeRTCP {
	return &fakeRTCP{in: make(chan []byte), reads: make(chan struct{}), closed: make(chan struct{})}
}

func (f *fakeRTCP) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	select {
	case f.reads <- struct{}{}:
	case <-f.closed:
		return 0, nil, io.EOF
	}
	select {
	case p := <-f.in:
		return copy(b, p), a, nil
	case <-f.closed:
		return 0, nil, io.EOF
	}
}

func (f *fakeRTCP) close() { f.once.Do(func() { close(f.closed) }) }

// process hands pkts to the reader as one compound packet and returns once
// the reader has handled it.
func (f *fakeRTCP) process(t *testing.T, pkts ...rtcp.Packet) {
	t.Helper()
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}
	if !f.atRead {
		f.awaitRead(t)
	}
	select {
	case f.in <- b:
	case <-time.After(testTimeout):
		t.Fatal("RTCP reader not reading")
	}
	f.atRead = false
	f.awaitRead(t)
}

func (f *fakeRTCP) awaitRead(t *testing.T) {
	t.Helper()
	select {
	case <-f.reads:
		f.atRead = true
	case <-time.After(testTimeout):
		t.Fatal("RTCP reader did not come back")
	}
}

// fakeContext is a webrtc.TrackLocalContext without a PeerConnection.
type fakeContext struct {
	id     string
	ssrc   webrtc.SSRC
	codecs []webrtc.RTPCodecParameters
	w      *fakeWriter
	r      *fakeRTCP
}

func (c *fakeContext) CodecParameters() []webrtc.RTPCodecParameters           { return c.codecs }
func (c *fakeContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (c *fakeContext) SSRC() webrtc.SSRC                                      { return c.ssrc }
func (c *fakeContext) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (c *fakeContext) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (c *fakeContext) WriteStream() webrtc.TrackLocalWriter                   { return c.w }
func (c *fakeContext) ID() string                                             { return c.id }
func (c *fakeContext) RTCPReader() interceptor.RTCPReader                     { return c.r }

const (
	h264Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	testPT   = 106
)

var (
	h264Cap = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp}
	opusCap = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
)

func viewerCodecs() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"}, PayloadType: 104},
		{RTPCodecCapability: h264Cap, PayloadType: testPT},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111},
	}
}

// newFakeContext returns a context whose reader is closed at cleanup.
func newFakeContext(t testing.TB, id string, ssrc webrtc.SSRC) *fakeContext {
	c := &fakeContext{id: id, ssrc: ssrc, codecs: viewerCodecs(), w: newFakeWriter(), r: newFakeRTCP()}
	t.Cleanup(func() {
		c.r.close()
		close(c.w.closed)
	})
	return c
}

// bind binds a new DownTrack of tr to a fake context.
func bind(t *testing.T, tr *Track, ssrc webrtc.SSRC) (*DownTrack, *fakeContext) {
	t.Helper()
	dt := tr.NewDownTrack()
	ctx := newFakeContext(t, "ctx", ssrc)
	if _, err := dt.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dt.Close() })
	return dt, ctx
}

func (d *DownTrack) sinkForTest() *sink {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur
}

// waitFor polls cond until it holds (for state that no channel reports).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// H.264 payload builders.
var (
	testSPS = []byte{0x67, 0x42, 0xe0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xec}
	testPPS = []byte{0x68, 0xce, 0x3c, 0x80}
)

func stapA(nalus ...[]byte) []byte {
	b := []byte{0x78}
	for _, n := range nalus {
		b = append(b, byte(len(n)>>8), byte(len(n)))
		b = append(b, n...)
	}
	return b
}

func fuA(start, end bool, typ byte, data ...byte) []byte {
	h := typ
	if start {
		h |= 0x80
	}
	if end {
		h |= 0x40
	}
	return append([]byte{0x7c, h}, data...)
}

func nonIDR(id byte) []byte { return []byte{0x41, 0x9a, id, id, id} }

func pkt(ssrc uint32, seq uint16, ts uint32, marker bool, payload []byte) *rtp.Packet {
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SSRC: ssrc, SequenceNumber: seq, Timestamp: ts, Marker: marker},
		Payload: payload,
	}
}
