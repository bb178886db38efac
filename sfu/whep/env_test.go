package whep

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/sfu"
)

const (
	testStream  = "demo"
	testTimeout = 10 * time.Second
	// gopPackets is the video packets of one GOP the feeder writes: an
	// SPS+PPS STAP-A, an IDR in three FU-As, then one-packet P-frames.
	gopPackets = 30
)

var (
	h264Cap = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	opusCap = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}

	testSPS = []byte{0x67, 0x42, 0xe0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xec}
	testPPS = []byte{0x68, 0xce, 0x3c, 0x80}
)

// fakeSource has tracks for one stream only.
type fakeSource struct {
	stream string
	tracks []*sfu.Track
}

func (s *fakeSource) Tracks(stream string) []*sfu.Track {
	if stream != s.stream {
		return nil
	}
	return s.tracks
}

// env is a Server on an httptest server whose stream testStream has a video
// and an audio sfu.Track fed with synthetic RTP until the test ends.
type env struct {
	srv          *Server
	hs           *httptest.Server
	reg          *prometheus.Registry
	video, audio *sfu.Track
	clientSE     webrtc.SettingEngine
}

// envOpts adjusts an env's Params and its server and client
// SettingEngines.
type envOpts struct {
	params   func(*Params)
	serverSE func(*webrtc.SettingEngine)
	clientSE func(*webrtc.SettingEngine)
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	video, err := sfu.NewTrack(sfu.TrackParams{ID: "video", StreamID: testStream, Codec: h264Cap})
	if err != nil {
		t.Fatal(err)
	}
	audio, err := sfu.NewTrack(sfu.TrackParams{ID: "audio", StreamID: testStream, Codec: opusCap})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var fed sync.WaitGroup
	fed.Go(func() { feed(stop, video, audio) })
	// Cleanups run last-registered first: clients (registered by the tests
	// later), then the HTTP server, then the Server, then the feeder and
	// the tracks.
	t.Cleanup(func() {
		close(stop)
		fed.Wait()
		_ = video.Close()
		_ = audio.Close()
	})

	var se webrtc.SettingEngine
	superpeer.LoopbackSettings(&se)
	clientSE := se
	if o.clientSE != nil {
		o.clientSE(&clientSE)
	}
	if o.serverSE != nil {
		o.serverSE(&se)
	}
	api, err := sfu.NewAPI(se)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := Params{
		Source:     &fakeSource{stream: testStream, tracks: []*sfu.Track{video, audio}},
		API:        api,
		Logger:     slog.New(slog.DiscardHandler),
		Registerer: reg,
	}
	if o.params != nil {
		o.params(&p)
	}
	srv, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if n := srv.Sessions(); n != 0 {
			t.Errorf("%d sessions after Close", n)
		}
	})
	mux := http.NewServeMux()
	srv.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &env{srv: srv, hs: hs, reg: reg, video: video, audio: audio, clientSE: clientSE}
}

// feed writes H.264 (a packet every 5 ms, a keyframe every gopPackets) and
// Opus (every fourth tick) until stop is closed or a track is closed.
func feed(stop <-chan struct{}, video, audio *sfu.Track) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var (
		vseq, aseq uint16 = 60000, 100
		vts, ats   uint32 = 1 << 30, 7
	)
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		i := n % gopPackets
		var payload []byte
		marker := true
		switch {
		case i == 0:
			payload = stapA(testSPS, testPPS)
			marker = false
		case i <= 3:
			payload = fuA(i == 1, i == 3, 5, 0x88, byte(n), byte(i))
			marker = i == 3
		default:
			payload = []byte{0x41, 0x9a, byte(n), byte(n >> 8)}
		}
		if i == 0 || i > 3 { // the STAP-A and the IDR share a timestamp
			vts += 3000
		}
		if err := video.WriteRTP(testPacket(0x1111, vseq, vts, marker, payload)); err != nil {
			return
		}
		vseq++
		if n%4 == 0 {
			if err := audio.WriteRTP(testPacket(0x2222, aseq, ats, true, []byte{0xfc, 0xff, 0xfe, byte(n)})); err != nil {
				return
			}
			aseq++
			ats += 960
		}
	}
}

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

func testPacket(ssrc uint32, seq uint16, ts uint32, marker bool, payload []byte) *rtp.Packet {
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SSRC: ssrc, SequenceNumber: seq, Timestamp: ts, Marker: marker},
		Payload: payload,
	}
}

// clientAPI is a viewer's pion API: default codecs and interceptors, ICE on
// loopback.
func (e *env) clientAPI() *webrtc.API {
	return webrtc.NewAPI(webrtc.WithSettingEngine(e.clientSE))
}

// receiver counts what a client's tracks receive.
type receiver struct {
	video, audio atomic.Int64
	// firstVideo is the payload of the first video packet.
	mu         sync.Mutex
	firstVideo []byte
	codecs     map[webrtc.RTPCodecType]string
}

func (r *receiver) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	r.mu.Lock()
	if r.codecs == nil {
		r.codecs = map[webrtc.RTPCodecType]string{}
	}
	r.codecs[tr.Kind()] = tr.Codec().MimeType
	r.mu.Unlock()
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		switch tr.Kind() {
		case webrtc.RTPCodecTypeVideo:
			if r.video.Add(1) == 1 {
				r.mu.Lock()
				r.firstVideo = append([]byte(nil), p.Payload...)
				r.mu.Unlock()
			}
		case webrtc.RTPCodecTypeAudio:
			r.audio.Add(1)
		}
	}
}

func (r *receiver) codec(k webrtc.RTPCodecType) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.codecs[k]
}

// waitMedia waits until r has n more video and n more audio packets than
// it had when called.
func (r *receiver) waitMedia(t *testing.T, what string, n int64) {
	t.Helper()
	v0, a0 := r.video.Load(), r.audio.Load()
	waitFor(t, what, func() bool { return r.video.Load() >= v0+n && r.audio.Load() >= a0+n })
}

// dial opens a session with Dial; the client is closed when the test ends.
func (e *env) dial(t *testing.T, stream string) (*Client, *receiver) {
	t.Helper()
	rcv := &receiver{}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := Dial(ctx, ClientParams{Endpoint: e.hs.URL + "/live/" + stream + "/whep", API: e.clientAPI(),
		HTTP: e.hs.Client(), OnTrack: rcv.onTrack})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.PC.GracefulClose() })
	return c, rcv
}

// offer is a recvonly video+audio offer with every candidate, and the
// PeerConnection that made it (closed when the test ends).
func (e *env) offer(t *testing.T) (*webrtc.PeerConnection, string) {
	t.Helper()
	pc, err := e.clientAPI().NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.GracefulClose() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(testTimeout):
		t.Fatal("client ICE gathering did not complete")
	}
	return pc, pc.LocalDescription().SDP
}

// reply is an HTTP response with its body read.
type reply struct {
	status int
	header http.Header
	body   string
}

// do sends a request to the env's server; ctype is the Content-Type (none
// when empty), extra more headers as name, value pairs. urlPath is a path
// on the server or an absolute URL.
func (e *env) do(t *testing.T, method, urlPath, ctype, body string, extra ...string) reply {
	t.Helper()
	r, err := e.request(method, urlPath, ctype, body, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// request is do for goroutines other than the test's: it returns its error.
func (e *env) request(method, urlPath, ctype, body string, extra ...string) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	target := urlPath
	if !strings.HasPrefix(target, "http") {
		target = e.hs.URL + urlPath
	}
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, urlPath, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the body: %w", method, urlPath, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// post offers sdp for stream.
func (e *env) post(t *testing.T, stream, sdp string) reply {
	t.Helper()
	return e.do(t, http.MethodPost, "/live/"+stream+"/whep", ContentSDP, sdp)
}

// session is the server's session at a Location.
func (e *env) session(t *testing.T, location string) *session {
	t.Helper()
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	ss, ok := e.srv.sessions[path.Base(location)]
	if !ok {
		t.Fatalf("no session for %q", location)
	}
	return ss
}

// viewers is how many DownTracks are bound to the env's tracks.
func (e *env) viewers() (video, audio int) {
	return e.video.Stats().Viewers, e.audio.Stats().Viewers
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitForWithin(t, testTimeout, what, cond)
}

func waitForWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		<-tick.C
	}
}

// connected waits for pc to report connected.
func connected(t *testing.T, pc *webrtc.PeerConnection) {
	t.Helper()
	waitFor(t, "connected", func() bool { return pc.ConnectionState() == webrtc.PeerConnectionStateConnected })
}
