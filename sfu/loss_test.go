//go:build e2e

// The loss test asserts timings (freezes) that the race detector's
// slowdown on two cores would distort, so, like the other timing tests,
// it carries the e2e tag and make test runs it without -race.

package sfu

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	pionnack "github.com/pion/interceptor/pkg/nack"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
)

// lossyLink is a virtual network (pion's vnet) with one router between the
// sfu and a viewer that drops a share of the packets in both directions
// once dropping is switched on.
type lossyLink struct {
	router         *vnet.Router
	server, viewer *vnet.Net
	drop           atomic.Bool
	dropped, total atomic.Int64
}

func newLossyLink(t *testing.T, share float64, seed uint64) *lossyLink {
	t.Helper()
	l := &lossyLink{}
	var err error
	l.router, err = vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.77.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	var mu sync.Mutex
	l.router.AddChunkFilter(func(vnet.Chunk) bool {
		l.total.Add(1)
		if !l.drop.Load() {
			return true
		}
		mu.Lock()
		lose := rng.Float64() < share
		mu.Unlock()
		if lose {
			l.dropped.Add(1)
		}
		return !lose
	})
	for _, n := range []**vnet.Net{&l.server, &l.viewer} {
		if *n, err = vnet.NewNet(&vnet.NetConfig{}); err != nil {
			t.Fatal(err)
		}
		if err := l.router.AddNet(*n); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.router.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.router.Stop() })
	return l
}

// frames tracks which video frames a viewer received whole, and when.
type frames struct {
	mu    sync.Mutex
	have  map[uint16]bool      // sequence numbers received
	first map[uint32]uint16    // frame timestamp -> its first sequence number (start of a frame)
	last  map[uint32]uint16    // frame timestamp -> its marker packet's sequence number
	key   map[uint32]bool      // frames that are keyframes
	done  map[uint32]time.Time // when each frame became whole
}

func newFrames() *frames {
	return &frames{have: map[uint16]bool{}, first: map[uint32]uint16{}, last: map[uint32]uint16{},
		key: map[uint32]bool{}, done: map[uint32]time.Time{}}
}

// add records a packet; the source sends each frame as a run of sequence
// numbers ending with the marker bit, and the frame before it ends just
// before its first packet.
func (f *frames) add(p *rtp.Packet, frameStart bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.have[p.SequenceNumber] = true
	if frameStart {
		f.first[p.Timestamp] = p.SequenceNumber
		f.key[p.Timestamp] = p.Payload[0]&0x1f == 24 // STAP-A with SPS and PPS
	}
	if p.Marker {
		f.last[p.Timestamp] = p.SequenceNumber
	}
	for ts, end := range f.last {
		start, ok := f.first[ts]
		if _, done := f.done[ts]; !ok || done {
			continue
		}
		whole := true
		for s := start; s != end+1; s++ {
			if !f.have[s] {
				whole = false
				break
			}
		}
		if whole {
			f.done[ts] = time.Now()
		}
	}
}

// shown returns when each decodable frame could be shown, in stream
// order: a frame is decodable when it is whole and so is every frame back
// to the last keyframe (a P frame needs the one before it).
func (f *frames) shown() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var tss []uint32
	for ts := range f.first {
		tss = append(tss, ts)
	}
	slices.Sort(tss)
	var out []time.Time
	broken := true // until the first keyframe
	var last time.Time
	for _, ts := range tss {
		at, whole := f.done[ts]
		switch {
		case !whole:
			broken = true
			continue
		case f.key[ts]:
			broken = false
		}
		if broken {
			continue
		}
		if at.Before(last) { // shown in order: not before the frame before it
			at = last
		}
		out = append(out, at)
		last = at
	}
	return out
}

// freezes counts gaps between shown frames longer than max(3× the frame
// interval, interval + 150 ms), WebRTC's freeze rule.
func freezes(shown []time.Time, interval time.Duration) int {
	limit := max(3*interval, interval+150*time.Millisecond)
	n := 0
	for i := 1; i < len(shown); i++ {
		if shown[i].Sub(shown[i-1]) > limit {
			n++
		}
	}
	return n
}

// lossRun is what one viewer over a lossy link saw.
type lossRun struct {
	frames, freezes    int
	nacks, retransmits uint64
	dropped, total     int64
}

// runLossy sends 30 fps video (5 packets a frame, a keyframe a second) to
// one viewer over a link that loses share of its packets, for d, with the
// viewer sending NACKs or not.
func runLossy(t *testing.T, share float64, nack bool, d time.Duration) lossRun {
	t.Helper()
	link := newLossyLink(t, share, 7)
	track, err := NewTrack(TrackParams{ID: "video", StreamID: "demo", Codec: h264Cap})
	if err != nil {
		t.Fatal(err)
	}
	var sse webrtc.SettingEngine
	sse.SetNet(link.server)
	sse.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api, err := NewAPI(sse)
	if err != nil {
		t.Fatal(err)
	}
	sfuPC, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if nack {
		// A browser NACKs as soon as it sees a gap; pion's generator
		// batches NACKs on a ticker (100 ms by default), so it ticks
		// every 20 ms here to behave like one.
		gen, err := pionnack.NewGeneratorInterceptor(pionnack.GeneratorInterval(20 * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		me.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
		reg.Add(gen)
	}
	var vse webrtc.SettingEngine
	vse.SetNet(link.viewer)
	vse.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	viewer, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(vse)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	dt := track.NewDownTrack()
	if _, err := sfuPC.AddTrack(dt); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	fr := newFrames()
	var readers sync.WaitGroup
	viewer.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		readers.Add(1)
		defer readers.Done()
		var prevTS uint32
		started := false
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			// A frame starts at the first packet of a new timestamp; a
			// retransmitted or reordered packet of an older frame is not
			// a start.
			start := !started || int32(p.Timestamp-prevTS) > 0
			if start {
				prevTS, started = p.Timestamp, true
			}
			fr.add(p, start && isFrameStart(p))
		}
	})
	connectViewer(t, viewer, sfuPC)
	link.drop.Store(true)

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	sendFrames(ctx, track)
	link.drop.Store(false)
	time.Sleep(300 * time.Millisecond) // the last retransmissions land; not synchronisation
	_ = viewer.Close()
	_ = sfuPC.Close()
	readers.Wait()
	_ = dt.Close()
	_ = track.Close()
	st := dt.Stats()
	shown := fr.shown()
	return lossRun{frames: len(shown), freezes: freezes(shown, time.Second/30),
		nacks: st.NACKs, retransmits: st.Retransmitted, dropped: link.dropped.Load(), total: link.total.Load()}
}

// isFrameStart: the source's frames start with a STAP-A (keyframe) or an
// FU-A start.
func isFrameStart(p *rtp.Packet) bool {
	if len(p.Payload) < 2 {
		return false
	}
	switch p.Payload[0] & 0x1f {
	case 24:
		return true
	case 28:
		return p.Payload[1]&0x80 != 0
	}
	return false
}

// sendFrames writes 30 fps until ctx ends: a keyframe a second (STAP-A
// with SPS and PPS, then an IDR in 6 FU-A packets), other frames a P slice
// in 5 FU-A packets.
func sendFrames(ctx context.Context, track *Track) {
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	var seq uint16
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ts := uint32(n) * 3000
		write := func(payload []byte, marker bool) {
			_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
				Timestamp: ts, SSRC: 4242, Marker: marker}, Payload: payload})
			seq++
		}
		nalType, parts := byte(1), 5
		if n%30 == 0 {
			write([]byte{24, 0, 4, 0x67, 0x42, 0xe0, 0x1f, 0, 2, 0x68, 0xce}, false)
			nalType, parts = 5, 6
		}
		body := make([]byte, 1000)
		for i := range parts {
			fuHeader := nalType
			if i == 0 {
				fuHeader |= 0x80
			}
			if i == parts-1 {
				fuHeader |= 0x40
			}
			write(append([]byte{0x60 | 28, fuHeader}, body...), i == parts-1)
		}
	}
}

// TestNACKRepairsLoss is the low-latency issue's acceptance point 4 on a
// viewer's link: 5% of packets lost in both directions (pion's vnet). With
// NACKs answered from the Track's shared ring, freezes stay rare; the same
// link without NACKs is the peer.
func TestNACKRepairsLoss(t *testing.T) {
	const d = 10 * time.Second
	with := runLossy(t, 0.05, true, d)
	without := runLossy(t, 0.05, false, d)
	perMin := func(n int) float64 { return float64(n) * float64(time.Minute) / float64(d) }
	t.Logf("5%% loss for %v at 30 fps: with NACK %d decodable frames, %.1f freezes/min, %d NACKs, %d retransmitted (%d of %d packets dropped); without NACK %d decodable frames, %.1f freezes/min",
		d, with.frames, perMin(with.freezes), with.nacks, with.retransmits, with.dropped, with.total, without.frames, perMin(without.freezes))
	if with.retransmits == 0 || with.nacks == 0 {
		t.Fatalf("no NACK repair happened: %+v", with)
	}
	if perMin(with.freezes) > 6 {
		t.Errorf("%.1f freezes a minute with NACK repair", perMin(with.freezes))
	}
	if with.frames <= without.frames {
		t.Errorf("NACK repair made no difference: %d decodable frames with, %d without", with.frames, without.frames)
	}
}

// connectViewer runs the offer/answer between a viewer (offering, with
// every candidate gathered first) and the sfu's PeerConnection, and waits
// up to 10 s for the viewer to connect.
func connectViewer(t *testing.T, viewer, sfuPC *webrtc.PeerConnection) {
	t.Helper()
	connected := waitConnected(viewer)
	offer, err := viewer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	vg := webrtc.GatheringCompletePromise(viewer)
	if err := viewer.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-vg
	if err := sfuPC.SetRemoteDescription(*viewer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := sfuPC.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	sg := webrtc.GatheringCompletePromise(sfuPC)
	if err := sfuPC.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-sg
	if err := viewer.SetRemoteDescription(*sfuPC.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("viewer never connected")
	}
}
