package relay

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/sfu"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var h264 = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
	SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}

// of serves one Follower's tracks as a Source.
type of struct{ f *Follower }

func (o of) Tracks(string) []*sfu.Track { return o.f.Tracks() }

// tracks is a fixed Source.
type tracks []*sfu.Track

func (t tracks) Tracks(string) []*sfu.Track { return t }

// source feeds a Track synthetic H.264: a keyframe (STAP-A with SPS and
// PPS) every gop packets, one non-IDR slice per packet otherwise.
func source(t *testing.T, tr *sfu.Track, gop int) { taggedSource(t, tr, gop, 0xaa) }

// taggedSource is source with tag as the second byte of every slice.
func taggedSource(t *testing.T, tr *sfu.Track, gop int, tag byte) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			payload := []byte{0x01, tag, byte(i)} // NAL type 1: a non-IDR slice
			if i%gop == 0 {
				// STAP-A: SPS (type 7), PPS (type 8).
				payload = []byte{24, 0, 4, 0x67, 0x42, 0xe0, 0x1f, 0, 2, 0x68, 0xce}
			}
			p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i),
				Timestamp: uint32(i) * 450, SSRC: 1234, Marker: true}, Payload: payload}
			if err := tr.WriteRTP(p); err != nil {
				return
			}
		}
	})
}

// capture is a TrackLocalContext that records what a DownTrack sends.
type capture struct {
	codec    webrtc.RTPCodecParameters
	mu       sync.Mutex
	seqs     []uint16
	times    []time.Time
	payloads [][]byte
	got      chan struct{}
	done     chan struct{}
}

func newCapture() *capture {
	return &capture{codec: webrtc.RTPCodecParameters{RTPCodecCapability: h264, PayloadType: 96},
		got: make(chan struct{}, 1), done: make(chan struct{})}
}

func (c *capture) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{c.codec}
}
func (c *capture) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (c *capture) SSRC() webrtc.SSRC                                      { return 99 }
func (c *capture) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (c *capture) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (c *capture) WriteStream() webrtc.TrackLocalWriter                   { return c }
func (c *capture) ID() string                                             { return "capture" }
func (c *capture) RTCPReader() interceptor.RTCPReader                     { return c }
func (c *capture) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	<-c.done
	return 0, a, context.Canceled
}
func (c *capture) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	c.mu.Lock()
	c.seqs = append(c.seqs, h.SequenceNumber)
	c.payloads = append(c.payloads, slices.Clone(payload))
	c.times = append(c.times, time.Now())
	c.mu.Unlock()
	select {
	case c.got <- struct{}{}:
	default:
	}
	return 1, nil
}
func (c *capture) Write(b []byte) (int, error) { return len(b), nil }

func (c *capture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seqs)
}

// parentOf is a settable parent for a Follower.
type parentOf struct {
	mu      sync.Mutex
	id      peer.ID
	changed chan struct{}
}

func newParent(id peer.ID) *parentOf { return &parentOf{id: id, changed: make(chan struct{})} }

func (p *parentOf) get() (peer.ID, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.id, p.changed
}

func (p *parentOf) set(id peer.ID) {
	p.mu.Lock()
	p.id = id
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func newHost(t *testing.T) host.Host {
	h, err := p2p.NewHost(p2p.HostParams{Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func connect(t *testing.T, a, b host.Host) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

func serve(t *testing.T, h host.Host, src Source) *Server {
	s, err := NewServer(ServerParams{Host: h, Source: src})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func follow(t *testing.T, h host.Host, parent *parentOf) *Follower {
	f, err := NewFollower(FollowerParams{Host: h, Stream: "demo", Parent: parent.get})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(context.Background())
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

// TestThreeHopsAndParentSwitch: origin → node 1 → node 2 → node 3 over
// libp2p; node 3's viewer gets the video; when node 2 dies and node 3
// switches to node 1, the viewer's sequence numbers run on without a gap.
func TestThreeHopsAndParentSwitch(t *testing.T) {
	origin := newHost(t)
	src, err := sfu.NewTrack(sfu.TrackParams{ID: "video", StreamID: "demo", Codec: h264})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	source(t, src, 20) // a keyframe every 100 ms
	serve(t, origin, tracks{src})

	hs := []host.Host{newHost(t), newHost(t), newHost(t)}
	connect(t, hs[0], origin)
	connect(t, hs[1], hs[0])
	connect(t, hs[2], hs[1])
	connect(t, hs[2], hs[0])
	parents := []*parentOf{newParent(origin.ID()), newParent(hs[0].ID()), newParent(hs[1].ID())}
	fs := make([]*Follower, 3)
	var servers []*Server
	for i, h := range hs {
		fs[i] = follow(t, h, parents[i])
		servers = append(servers, serve(t, h, of{fs[i]}))
	}
	waitFor(t, 5*time.Second, "node 3 has a video track", func() bool { return len(fs[2].Tracks()) == 1 })

	viewer := newCapture()
	dt := fs[2].Tracks()[0].NewDownTrack()
	if _, err := dt.Bind(viewer); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(viewer.done); _ = dt.Unbind(viewer); _ = dt.Close() })
	waitFor(t, 5*time.Second, "viewer on node 3 gets packets", func() bool { return viewer.count() >= 50 })

	// Node 2 dies; node 3's tracker assignment moves it to node 1.
	before := viewer.count()
	_ = servers[1].Close()
	_ = fs[1].Close()
	killed := time.Now()
	parents[2].set(hs[0].ID())
	waitFor(t, 3*time.Second, "viewer resumes after the switch", func() bool { return viewer.count() >= before+50 })
	viewer.mu.Lock()
	seqs, times := append([]uint16(nil), viewer.seqs...), append([]time.Time(nil), viewer.times...)
	viewer.mu.Unlock()
	var resumed time.Duration
	for i := before; i < len(times); i++ {
		if times[i].After(killed) {
			resumed = times[i].Sub(killed)
			break
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("viewer sequence jumps from %d to %d at packet %d of %d (switch at %d)", seqs[i-1], seqs[i], i, len(seqs), before)
		}
	}
	t.Logf("viewer got %d packets with continuous sequence numbers; first packet after the switch %v after node 2 died", len(seqs), resumed)
}

// TestLayersRelayed: a stream with two video layers reaches a node two hops
// down as two tracks, best first, each carrying its own layer; a stream
// with one layer never lists a low one.
func TestLayersRelayed(t *testing.T) {
	origin := newHost(t)
	hi, err := sfu.NewTrack(sfu.TrackParams{ID: "video", StreamID: "demo", Codec: h264})
	if err != nil {
		t.Fatal(err)
	}
	lo, err := sfu.NewTrack(sfu.TrackParams{ID: "video-low", StreamID: "demo", Codec: h264})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hi.Close(); _ = lo.Close() })
	taggedSource(t, hi, 20, 0xaa)
	taggedSource(t, lo, 20, 0xbb)
	serve(t, origin, tracks{hi, lo})
	hs := []host.Host{newHost(t), newHost(t)}
	connect(t, hs[0], origin)
	connect(t, hs[1], hs[0])
	f1 := follow(t, hs[0], newParent(origin.ID()))
	serve(t, hs[0], of{f1})
	f2 := follow(t, hs[1], newParent(hs[0].ID()))
	waitFor(t, 5*time.Second, "node 2 has both video layers", func() bool { return len(f2.Tracks()) == 2 })
	for i, tag := range []byte{0xaa, 0xbb} {
		tr := f2.Tracks()[i]
		viewer := newCapture()
		dt := tr.NewDownTrack()
		if _, err := dt.Bind(viewer); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "layer packets", func() bool { return viewer.count() >= 30 })
		close(viewer.done)
		_ = dt.Unbind(viewer)
		_ = dt.Close()
		viewer.mu.Lock()
		payloads := slices.Clone(viewer.payloads)
		viewer.mu.Unlock()
		for _, p := range payloads {
			if len(p) == 3 && p[0] == 0x01 && p[1] != tag {
				t.Fatalf("layer %d carries a slice tagged %#x, want %#x", i, p[1], tag)
			}
		}
	}

	// One layer only: the low track is never listed.
	single := newHost(t)
	v, err := sfu.NewTrack(sfu.TrackParams{ID: "video", StreamID: "solo", Codec: h264})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	source(t, v, 20)
	serve(t, single, tracks{v})
	h := newHost(t)
	connect(t, h, single)
	f := follow(t, h, newParent(single.ID()))
	waitFor(t, 5*time.Second, "the video track", func() bool { return len(f.Tracks()) == 1 })
	if got := findTrack(tracks{v}, TrackVideoLow); got != nil {
		t.Fatal("findTrack found a low layer in a one-layer stream")
	}
	if n := len(f.Tracks()); n != 1 {
		t.Fatalf("%d tracks, want 1", n)
	}
}
