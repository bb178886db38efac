//go:build e2e

// The layer test runs real pion PeerConnections with pion's GCC over a
// virtual network for about a minute and asserts timings, so, like the
// loss test, it carries the e2e tag.

package sfu

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
)

// Layer markers in the synthetic payloads: the byte after each FU-A
// header, and an SEI NAL unit's in each keyframe's STAP-A.
const (
	markTop = 'T'
	markLow = 'L'
)

// layerOf returns a synthetic packet's layer marker.
func layerOf(p []byte) byte {
	switch {
	case len(p) > 2 && p[0]&0x1f == 28:
		return p[2]
	case len(p) > 0 && p[0]&0x1f == 24:
		return p[len(p)-1] // the SEI, last in the STAP-A
	}
	return 0
}

// sendLayers writes a 30 fps two-layer ladder until ctx ends: top about
// 2.5 Mbit/s, low about 400 kbit/s, a keyframe a second on each (at the
// same frames, as one encoder's ladder does).
func sendLayers(ctx context.Context, top, low *Track) {
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	seqs := map[*Track]uint16{}
	write := func(tr *Track, ssrc uint32, ts uint32, payload []byte, marker bool) {
		_ = tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seqs[tr],
			Timestamp: ts, SSRC: ssrc, Marker: marker}, Payload: payload})
		seqs[tr]++
	}
	frame := func(tr *Track, ssrc uint32, ts uint32, mark byte, key bool, parts, size int) {
		nal := byte(1)
		if key {
			write(tr, ssrc, ts, stapA(testSPS, testPPS, []byte{0x06, mark}), false)
			nal = 5
		}
		for i := range parts {
			h := nal
			if i == 0 {
				h |= 0x80
			}
			if i == parts-1 {
				h |= 0x40
			}
			body := make([]byte, size)
			body[0] = mark
			write(tr, ssrc, ts, append([]byte{0x60 | 28, h}, body...), i == parts-1)
		}
	}
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		key := n%30 == 0
		ts := uint32(n) * 3000
		if key {
			frame(top, 1111, ts+1_000_000, markTop, true, 24, 1100)
			frame(low, 2222, ts+7_000_000, markLow, true, 4, 1100)
		} else {
			frame(top, 1111, ts+1_000_000, markTop, false, 9, 1100)
			frame(low, 2222, ts+7_000_000, markLow, false, 2, 700)
		}
	}
}

// layerViewer is one receiving PeerConnection and what it read.
type layerViewer struct {
	pc *webrtc.PeerConnection
	dt *DownTrack

	mu   sync.Mutex
	pkts map[uint16]rtp.Packet // by sequence number (retransmissions overwrite)
	seqs []uint16              // in arrival order, first arrivals only
}

// newLayerViewer connects a viewer on n (pion's default interceptors:
// NACK, reports and transport-cc feedback, as a browser) to a new sfu
// PeerConnection on server, sent a layered video of tracks.
func newLayerViewer(t *testing.T, api *webrtc.API, n *vnet.Net, tracks []*Track) *layerViewer {
	t.Helper()
	sfuPC, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetNet(n)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.DisableSRTPReplayProtection(true)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	v := &layerViewer{pc: pc, pkts: map[uint16]rtp.Packet{}}
	if v.dt, err = NewLayeredDownTrack(LayeredParams{Tracks: tracks}); err != nil {
		t.Fatal(err)
	}
	if _, err := sfuPC.AddTrack(v.dt); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		readers.Add(1)
		defer readers.Done()
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			v.mu.Lock()
			if _, dup := v.pkts[p.SequenceNumber]; !dup {
				v.seqs = append(v.seqs, p.SequenceNumber)
			}
			v.pkts[p.SequenceNumber] = rtp.Packet{Header: p.Header, Payload: slices.Clone(p.Payload)}
			v.mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = pc.Close()
		_ = sfuPC.Close()
		readers.Wait()
		_ = v.dt.Close()
	})
	connectViewer(t, pc, sfuPC)
	return v
}

// checkCuts checks the viewer's stream in sequence order: every change of
// layer starts with the new layer's keyframe (the SPS/PPS STAP-A) right
// after the old layer's last packet (sequence +1, timestamp forward). It
// returns the layers in the order the viewer was sent them.
func (v *layerViewer) checkCuts(t *testing.T) []byte {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.seqs) == 0 {
		t.Fatal("viewer received nothing")
	}
	// Unwrap relative to the first packet.
	first := v.seqs[0]
	var ext []int
	for s := range v.pkts {
		ext = append(ext, int(int16(s-first)))
	}
	slices.Sort(ext)
	var layers []byte
	prev := rtp.Packet{}
	prevExt := 0
	for i, x := range ext {
		p := v.pkts[first+uint16(x)]
		l := layerOf(p.Payload)
		if i == 0 || l != layerOf(prev.Payload) {
			layers = append(layers, l)
			if p.Payload[0]&0x1f != 24 {
				t.Errorf("seq %d: layer %c starts with NAL type %d, not the keyframe's STAP-A", p.SequenceNumber, l, p.Payload[0]&0x1f)
			}
			if i > 0 {
				if x != prevExt+1 {
					t.Logf("seq %d: cut after a gap of %d (packets lost on the link)", p.SequenceNumber, x-prevExt-1)
				}
				if int32(p.Timestamp-prev.Timestamp) <= 0 {
					t.Errorf("seq %d: timestamp %d not after %d at the cut", p.SequenceNumber, p.Timestamp, prev.Timestamp)
				}
			}
		}
		prev, prevExt = p, x
	}
	return layers
}

// TestLayersFollowBandwidth: two viewers of a two-layer ladder (2.5 Mbit/s
// and 400 kbit/s), each with pion's GCC fed by its transport-cc feedback
// and starting from a 4 Mbit/s initial estimate (so on the top layer).
// One viewer's downlink is limited to 1 Mbit/s (a token-bucket queue on
// its virtual NIC): it must end up on the low layer, the other stay on
// the top; once the limit is lifted the first must climb back.
func TestLayersFollowBandwidth(t *testing.T) {
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.78.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	var server, free, limited *vnet.Net
	for _, n := range []**vnet.Net{&server, &free, &limited} {
		if *n, err = vnet.NewNet(&vnet.NetConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	// 1 Mbit/s, a 10 kB burst, 60 kB queued at most (about half a second).
	tbf := vnet.NewTBFQueue(1_000_000, 10_000, 60_000)
	q, err := vnet.NewQueue(limited, tbf)
	if err != nil {
		t.Fatal(err)
	}
	for _, nic := range []vnet.NIC{server, free, q} {
		if err := router.AddNet(nic); err != nil {
			t.Fatal(err)
		}
	}
	if err := router.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = router.Stop()
		_ = q.Close()
	})

	top, err := NewTrack(TrackParams{ID: "video", StreamID: "demo", Codec: h264Cap})
	if err != nil {
		t.Fatal(err)
	}
	low, err := NewTrack(TrackParams{ID: "video-low", StreamID: "demo", Codec: h264Cap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = top.Close()
		_ = low.Close()
	})
	var se webrtc.SettingEngine
	se.SetNet(server)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api, err := NewAPIWithParams(APIParams{SettingEngine: se, InitialBitrate: 4_000_000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		sendLayers(ctx, top, low)
	}()
	t.Cleanup(func() {
		cancel()
		<-fed
	})
	layers := []*Track{top, low}
	fv := newLayerViewer(t, api, free, layers)
	lv := newLayerViewer(t, api, limited, layers)

	start := time.Now()
	await := func(what string, v *layerViewer, layer int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for v.dt.Stats().Layer != layer {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not on layer %d within %v: %+v", what, layer, within, v.dt.Stats())
			}
			<-tick.C
		}
		t.Logf("%.1f s: %s on layer %d, estimate %d bit/s (%+v)", time.Since(start).Seconds(), what, layer, v.dt.Stats().Estimate, v.dt.Stats())
	}
	// Both start on the low layer and move to the top at the first
	// estimate (4 Mbit/s); the limited viewer comes down...
	await("free viewer", fv, 0, 10*time.Second)
	await("limited viewer", lv, 0, 10*time.Second)
	await("limited viewer", lv, 1, 20*time.Second)
	// ...and stays there while the limit holds; the free one stays on top.
	hold := time.NewTimer(8 * time.Second)
	<-hold.C
	if st := lv.dt.Stats(); st.Layer != 1 {
		t.Errorf("limited viewer back on layer %d under the limit: %+v", st.Layer, st)
	}
	if st := fv.dt.Stats(); st.Layer != 0 || st.LayerSwitches != 1 || st.Estimate < 3_000_000 {
		t.Errorf("free viewer: %+v, want the top layer since the first estimate and an estimate that allows it", st)
	}
	// Lift the limit: the limited viewer climbs back.
	tbf.SetRate(100_000_000)
	await("viewer after the limit was lifted", lv, 0, 60*time.Second)

	cancel()
	<-fed
	got, freeGot := lv.checkCuts(t), fv.checkCuts(t)
	t.Logf("limited viewer was sent layers %q; free viewer %q; limited stats %+v; free stats %+v", got, freeGot, lv.dt.Stats(), fv.dt.Stats())
	if string(freeGot) != "LT" {
		t.Errorf("free viewer's layers %q, want LT (low until the first estimate)", freeGot)
	}
	if len(got) < 4 || string(got[:3]) != "LTL" || got[len(got)-1] != markTop {
		t.Errorf("limited viewer's layers %q, want low, top, low, ..., top", got)
	}
}
