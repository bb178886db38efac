package sfu

import (
	"bytes"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// loopbackSettings keeps ICE on 127.0.0.1 over UDP, without mDNS.
func loopbackSettings() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}

// viewerPC is a receive-only browser stand-in: pion's default codecs, no
// interceptors (so it sends no NACK or PLI of its own), and SRTP replay
// protection off so that it can read a retransmission of a packet it
// already has.
func newViewerPC(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	se := loopbackSettings()
	se.DisableSRTPReplayProtection(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(&interceptor.Registry{}),
		webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func waitConnected(pc *webrtc.PeerConnection) <-chan struct{} {
	ch := make(chan struct{})
	var once atomic.Bool
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected && once.CompareAndSwap(false, true) {
			close(ch)
		}
	})
	return ch
}

// received is a remote track's packets, read until the PeerConnection closes.
type received struct {
	track *webrtc.TrackRemote
	pkts  chan *rtp.Packet
}

// next returns the next packet, failing the test after timeout.
func (r *received) next(t *testing.T, timeout time.Duration) *rtp.Packet {
	t.Helper()
	select {
	case p := <-r.pkts:
		return p
	case <-time.After(timeout):
		t.Fatalf("no %s packet within %v", r.track.Kind(), timeout)
		return nil
	}
}

func TestLoopbackPeerConnection(t *testing.T) {
	clock := newFakeClock()
	var requests atomic.Int64
	video, err := NewTrack(TrackParams{ID: "video", StreamID: "demo", Codec: h264Cap, Now: clock.Now,
		RequestKeyframe: func() { requests.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	audio, err := NewTrack(TrackParams{ID: "audio", StreamID: "demo", Codec: opusCap, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}

	api, err := NewAPI(loopbackSettings())
	if err != nil {
		t.Fatal(err)
	}
	sfuPC, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	viewer := newViewerPC(t)
	t.Cleanup(func() {
		_ = viewer.GracefulClose()
		_ = sfuPC.GracefulClose()
		_ = video.Close()
		_ = audio.Close()
	})
	vdt, adt := video.NewDownTrack(), audio.NewDownTrack()
	for _, dt := range []*DownTrack{vdt, adt} {
		if _, err := sfuPC.AddTrack(dt); err != nil {
			t.Fatal(err)
		}
	}

	tracks := make(chan *received, 2)
	var overflow atomic.Bool // the test fell behind reading: fails at the end
	t.Cleanup(func() {
		if overflow.Load() {
			t.Error("viewer receive buffer overflowed")
		}
	})
	viewer.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		r := &received{track: tr, pkts: make(chan *rtp.Packet, 4096)}
		tracks <- r
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			select {
			case r.pkts <- p:
			default:
				overflow.Store(true)
				return
			}
		}
	})
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := viewer.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	viewerUp, sfuUp := waitConnected(viewer), waitConnected(sfuPC)

	// WHEP-style exchange: the viewer offers, the SFU answers; no trickle.
	offer, err := viewer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(viewer)
	if err := viewer.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := sfuPC.SetRemoteDescription(*viewer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := sfuPC.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(sfuPC)
	if err := sfuPC.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := viewer.SetRemoteDescription(*sfuPC.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sfuPC.LocalDescription().SDP, "nack") == false {
		t.Error("answer does not offer NACK feedback")
	}
	if st := video.Stats(); st.Viewers != 1 || requests.Load() != 1 {
		t.Fatalf("after bind: %d viewers, %d keyframe requests; want 1 and 1", st.Viewers, requests.Load())
	}

	// Upstream: GOPs of an SPS/PPS STAP-A, an IDR in three FU-As and 16
	// P-frames, each payload unique; Opus alongside. As for a live stream,
	// writing starts before ICE and DTLS are done (pion's sender drops those
	// packets) and goes on, a packet every 5 ms, until the viewer's first
	// packet shows up, so the sender usually becomes ready mid-GOP.
	const gopLen = 20
	var (
		upstream     [][]byte
		seq, aseq    uint16 = 40000, 7
		ts, ats      uint32 = 1 << 31, 5
		vrecv, arecv *received
	)
	writeNext := func() {
		t.Helper()
		n := len(upstream)
		g, i := byte(n/gopLen), n%gopLen
		var pl []byte
		switch {
		case i == 0:
			pl = stapA(testSPS, testPPS, []byte{0x06, 0x05, g})
		case i <= 3:
			pl = fuA(i == 1, i == 3, 5, g, byte(i))
		default:
			pl = []byte{0x41, g, byte(i)}
		}
		if i == 0 || i >= 4 {
			ts += 3000
		}
		if err := video.WriteRTP(pkt(1, seq, ts, i >= 3, pl)); err != nil {
			t.Fatal(err)
		}
		upstream = append(upstream, pl)
		seq++
		if err := audio.WriteRTP(pkt(2, aseq, ats, true, []byte{0xfc, g, byte(i)})); err != nil {
			t.Fatal(err)
		}
		aseq++
		ats += 960
	}
	var first *rtp.Packet
	for first == nil {
		if len(upstream) == 2000 {
			t.Fatal("viewer received nothing")
		}
		writeNext()
		select {
		case r := <-tracks:
			if r.track.Kind() == webrtc.RTPCodecTypeVideo {
				vrecv = r
			} else {
				arecv = r
			}
		case <-time.After(5 * time.Millisecond):
		}
		if vrecv != nil {
			select {
			case first = <-vrecv.pkts:
			default:
			}
		}
	}
	for len(upstream)%gopLen != 0 { // finish the GOP
		writeNext()
	}
	for _, up := range []<-chan struct{}{viewerUp, sfuUp} {
		select {
		case <-up:
		case <-time.After(10 * time.Second):
			t.Fatal("PeerConnections did not report connected")
		}
	}
	if !strings.Contains(vrecv.track.Codec().SDPFmtpLine, "profile-level-id=42e01f") {
		t.Errorf("negotiated %q, want the Track's profile", vrecv.track.Codec().SDPFmtpLine)
	}

	// The viewer starts at a keyframe, then gets every packet in order with
	// continuous sequence numbers.
	if !h264HasKeyStart(first.Payload) || first.Payload[0]&0x1f != nalSTAP {
		t.Fatalf("first packet % x is not the keyframe start", first.Payload)
	}
	idx := -1
	for i, pl := range upstream {
		if bytes.Equal(pl, first.Payload) {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatal("first packet not found upstream")
	}
	got := []*rtp.Packet{first}
	for i := idx + 1; i < idx+gopLen; i++ {
		p := vrecv.next(t, 5*time.Second)
		if p.SequenceNumber != got[len(got)-1].SequenceNumber+1 {
			t.Fatalf("sequence %d after %d", p.SequenceNumber, got[len(got)-1].SequenceNumber)
		}
		if !bytes.Equal(p.Payload, upstream[i]) {
			t.Fatalf("packet %d payload % x, want % x", len(got), p.Payload, upstream[i])
		}
		got = append(got, p)
	}
	t.Logf("first packet after %d upstream packets; video %+v", len(upstream), vdt.Stats())
	if !vdt.Stats().Started {
		t.Error("DownTrack not started")
	}

	// NACK a packet the viewer has: the SFU resends it from the ring.
	want := got[2]
	if err := viewer.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{
		MediaSSRC: uint32(vrecv.track.SSRC()),
		Nacks:     rtcp.NackPairsFromSequenceNumbers([]uint16{want.SequenceNumber}),
	}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for dup := false; !dup; {
		select {
		case p := <-vrecv.pkts:
			dup = p.SequenceNumber == want.SequenceNumber
			if dup && (!bytes.Equal(p.Payload, want.Payload) || p.Timestamp != want.Timestamp) {
				t.Errorf("retransmission differs: %v vs %v", p.Header, want.Header)
			}
		case <-deadline:
			t.Fatal("no retransmission")
		}
	}
	waitFor(t, "retransmission count", func() bool { return vdt.Stats().Retransmitted == 1 })
	if st := video.Stats(); st.NACKs != 1 || st.Retransmitted != 1 {
		t.Errorf("track stats %+v, want 1 NACK, 1 retransmitted", st)
	}

	// Three PLIs inside one interval: one upstream request.
	clock.Advance(time.Second)
	before := requests.Load()
	for range 3 {
		if err := viewer.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(vrecv.track.SSRC())}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "three PLIs", func() bool { return vdt.Stats().PLIs == 3 })
	if n := requests.Load() - before; n != 1 {
		t.Errorf("3 PLIs caused %d keyframe requests, want 1", n)
	}

	// Audio arrives too, with continuous numbering.
	if arecv == nil {
		select {
		case arecv = <-tracks:
		case <-time.After(5 * time.Second):
			t.Fatal("no audio track")
		}
	}
	a1 := arecv.next(t, 5*time.Second)
	a2 := arecv.next(t, 5*time.Second)
	if a2.SequenceNumber != a1.SequenceNumber+1 || a2.Timestamp != a1.Timestamp+960 {
		t.Errorf("audio %d/%d then %d/%d", a1.SequenceNumber, a1.Timestamp, a2.SequenceNumber, a2.Timestamp)
	}
	if !strings.EqualFold(arecv.track.Codec().MimeType, webrtc.MimeTypeOpus) || adt.Stats().Sent == 0 {
		t.Errorf("audio codec %s, sent %d", arecv.track.Codec().MimeType, adt.Stats().Sent)
	}
}
