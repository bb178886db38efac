package whep

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// metric is the value of a counter or gauge in reg, with the label pairs
// given (name, value, ...); 0 when absent.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// TestPostOffer: a POST with an SDP offer gets 201, the SDP answer with
// every server candidate, the session's URL and the PATCH content type; the
// answer connects the offering PeerConnection.
func TestPostOffer(t *testing.T) {
	e := newEnv(t, envOpts{})
	pc, offer := e.offer(t)
	r := e.do(t, http.MethodPost, "/live/"+testStream+"/whep", ContentSDP+"; charset=utf-8", offer,
		"Origin", "https://anywhere.example")

	if r.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != ContentSDP {
		t.Errorf("Content-Type %q", ct)
	}
	loc := r.header.Get("Location")
	prefix := "/live/" + testStream + "/whep/"
	if !strings.HasPrefix(loc, prefix) || len(loc) <= len(prefix) || strings.Contains(loc[len(prefix):], "/") {
		t.Errorf("Location %q is not a session under %s", loc, prefix)
	}
	if ap := r.header.Get("Accept-Patch"); ap != ContentSDPFrag {
		t.Errorf("Accept-Patch %q", ap)
	}
	if etag := r.header.Get("ETag"); etag == "" {
		t.Error("no ETag")
	}
	// CORSOrigins defaults to any origin.
	if o := r.header.Get("Access-Control-Allow-Origin"); o != "*" {
		t.Errorf("Access-Control-Allow-Origin %q, want *", o)
	}
	if eh := r.header.Get("Access-Control-Expose-Headers"); !strings.Contains(eh, "Location") {
		t.Errorf("Access-Control-Expose-Headers %q does not expose Location", eh)
	}
	if len(r.header.Values("Link")) != 0 {
		t.Errorf("Link %q without ICE servers", r.header.Values("Link"))
	}
	for _, want := range []string{"a=ice-ufrag:", "a=ice-pwd:", "a=candidate:", "a=fingerprint:"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("answer lacks %q:\n%s", want, r.body)
		}
	}
	if n := e.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d, want 1", n)
	}
	if v, a := e.viewers(); v != 1 || a != 1 {
		t.Errorf("viewers %d video, %d audio; want 1 and 1", v, a)
	}

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: r.body}); err != nil {
		t.Fatalf("answer: %v", err)
	}
	connected(t, pc)
	ss := e.session(t, loc)
	waitFor(t, "server side connected", func() bool { return ss.pc.ConnectionState() == webrtc.PeerConnectionStateConnected })
	if got := metric(t, e.reg, "canopy_whep_sessions_created_total"); got != 1 {
		t.Errorf("created = %v, want 1", got)
	}
	if got := metric(t, e.reg, "canopy_whep_sessions"); got != 1 {
		t.Errorf("open gauge = %v, want 1", got)
	}
}

// TestDialReceivesMedia: whep.Dial connects to the server and receives the
// stream's H.264 from a keyframe on, and its Opus; Close deletes the
// session, which frees the tracks' viewers.
func TestDialReceivesMedia(t *testing.T) {
	e := newEnv(t, envOpts{})
	c, rcv := e.dial(t, testStream)
	if !strings.HasPrefix(c.Location, e.hs.URL+"/live/"+testStream+"/whep/") {
		t.Errorf("Location %q is not absolute under the endpoint", c.Location)
	}
	connected(t, c.PC)
	rcv.waitMedia(t, "video and audio RTP", 50)
	if got := rcv.codec(webrtc.RTPCodecTypeVideo); !strings.EqualFold(got, webrtc.MimeTypeH264) {
		t.Errorf("video codec %q", got)
	}
	if got := rcv.codec(webrtc.RTPCodecTypeAudio); !strings.EqualFold(got, webrtc.MimeTypeOpus) {
		t.Errorf("audio codec %q", got)
	}
	rcv.mu.Lock()
	first := rcv.firstVideo
	rcv.mu.Unlock()
	if want := stapA(testSPS, testPPS); !bytes.Equal(first, want) {
		t.Errorf("first video packet % x, want the keyframe's SPS+PPS % x", first, want)
	}
	if n := e.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d, want 1", n)
	}

	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := e.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d after Close, want 0", n)
	}
	if v, a := e.viewers(); v != 0 || a != 0 {
		t.Errorf("viewers %d video, %d audio after Close; want none", v, a)
	}
	if got := metric(t, e.reg, "canopy_whep_sessions"); got != 0 {
		t.Errorf("open gauge = %v after Close, want 0", got)
	}
}

// TestDialRefused: Dial reports a refusal and leaves nothing open.
func TestDialRefused(t *testing.T) {
	e := newEnv(t, envOpts{})
	_, err := Dial(context.Background(), ClientParams{Endpoint: e.hs.URL + "/live/nothing/whep",
		API: e.clientAPI(), HTTP: e.hs.Client()})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Dial of a stream without media: %v, want a 404 error", err)
	}
}

// TestRefusals: offers refused with the right status leave no session and
// no viewer behind.
func TestRefusals(t *testing.T) {
	e := newEnv(t, envOpts{})
	_, offer := e.offer(t)
	cases := []struct {
		name   string
		stream string
		ctype  string
		body   string
		status int
	}{
		{"wrong content type", testStream, "text/plain", offer, http.StatusUnsupportedMediaType},
		{"no content type", testStream, "", offer, http.StatusUnsupportedMediaType},
		{"trickle fragment to the endpoint", testStream, ContentSDPFrag, offer, http.StatusUnsupportedMediaType},
		{"stream without media", "nothing", ContentSDP, offer, http.StatusNotFound},
		{"garbage SDP", testStream, ContentSDP, "this is not SDP\r\n", http.StatusBadRequest},
		{"empty body", testStream, ContentSDP, "", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, http.MethodPost, "/live/"+tc.stream+"/whep", tc.ctype, tc.body)
			if r.status != tc.status {
				t.Errorf("status %d (%s), want %d", r.status, strings.TrimSpace(r.body), tc.status)
			}
			if r.header.Get("Location") != "" {
				t.Errorf("Location %q on a refusal", r.header.Get("Location"))
			}
			if n := e.srv.Sessions(); n != 0 {
				t.Errorf("Sessions() = %d after a refusal", n)
			}
			if v, a := e.viewers(); v != 0 || a != 0 {
				t.Errorf("viewers %d video, %d audio left after a refusal", v, a)
			}
		})
	}
	if got := metric(t, e.reg, "canopy_whep_sessions_refused_total", "reason", "no_media"); got != 1 {
		t.Errorf("refused{no_media} = %v, want 1", got)
	}
	if got := metric(t, e.reg, "canopy_whep_sessions_created_total"); got != 0 {
		t.Errorf("created = %v, want 0", got)
	}
}

// TestOfferTooBig: a body one byte over MaxOfferSize is 413; one at the
// limit is accepted.
func TestOfferTooBig(t *testing.T) {
	probe := newEnv(t, envOpts{})
	_, offer := probe.offer(t)
	for _, tc := range []struct {
		name   string
		limit  int
		status int
	}{
		{"over", len(offer) - 1, http.StatusRequestEntityTooLarge},
		{"at the limit", len(offer), http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{params: func(p *Params) { p.MaxOfferSize = tc.limit }})
			r := e.post(t, testStream, offer)
			if r.status != tc.status {
				t.Fatalf("status %d (%s), want %d", r.status, strings.TrimSpace(r.body), tc.status)
			}
			want := 0
			if tc.status == http.StatusCreated {
				want = 1
			}
			if n := e.srv.Sessions(); n != want {
				t.Errorf("Sessions() = %d, want %d", n, want)
			}
		})
	}
}

// TestMaxSessions: at MaxSessions, an offer is 503 with Retry-After and
// opens nothing; once a session ends, offers are accepted again.
func TestMaxSessions(t *testing.T) {
	e := newEnv(t, envOpts{params: func(p *Params) { p.MaxSessions = 1 }})
	c, _ := e.dial(t, testStream)
	_, offer := e.offer(t)
	r := e.post(t, testStream, offer)
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%s), want 503", r.status, r.body)
	}
	if ra := r.header.Get("Retry-After"); ra == "" {
		t.Error("503 without Retry-After")
	}
	if n := e.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d, want 1", n)
	}
	if v, a := e.viewers(); v != 1 || a != 1 {
		t.Errorf("viewers %d video, %d audio; want 1 and 1", v, a)
	}
	if got := metric(t, e.reg, "canopy_whep_sessions_refused_total", "reason", "full"); got != 1 {
		t.Errorf("refused{full} = %v, want 1", got)
	}

	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, offer = e.offer(t)
	if r := e.post(t, testStream, offer); r.status != http.StatusCreated {
		t.Errorf("after a session ended: status %d (%s), want 201", r.status, r.body)
	}
}

// TestConcurrentOffersRespectMaxSessions: offers that arrive together
// cannot open more than MaxSessions sessions between them.
func TestConcurrentOffersRespectMaxSessions(t *testing.T) {
	const max, offers = 2, 6
	e := newEnv(t, envOpts{params: func(p *Params) { p.MaxSessions = max }})
	sdps := make([]string, offers)
	for i := range sdps {
		_, sdps[i] = e.offer(t)
	}
	statuses := make([]int, offers)
	retry := make([]string, offers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range sdps {
		wg.Go(func() {
			<-start
			r, err := e.request(http.MethodPost, "/live/"+testStream+"/whep", ContentSDP, sdps[i])
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i], retry[i] = r.status, r.header.Get("Retry-After")
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for i, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusServiceUnavailable:
			if retry[i] == "" {
				t.Errorf("offer %d: 503 without Retry-After", i)
			}
		default:
			t.Errorf("offer %d: status %d", i, s)
		}
	}
	if created != max {
		t.Errorf("%d offers accepted (%v), want %d", created, statuses, max)
	}
	if n := e.srv.Sessions(); n != max {
		t.Errorf("Sessions() = %d, want %d", n, max)
	}
	if v, a := e.viewers(); v != max || a != max {
		t.Errorf("viewers %d video, %d audio; want %d each", v, a, max)
	}
}

// TestClose: Close ends every session, frees its viewers and refuses later
// offers with 503.
func TestClose(t *testing.T) {
	e := newEnv(t, envOpts{})
	c, rcv := e.dial(t, testStream)
	connected(t, c.PC)
	rcv.waitMedia(t, "media before Close", 10)
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d after Close", n)
	}
	if v, a := e.viewers(); v != 0 || a != 0 {
		t.Errorf("viewers %d video, %d audio after Close", v, a)
	}
	_, offer := e.offer(t)
	r := e.post(t, testStream, offer)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("after Close: status %d, Retry-After %q; want 503 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	if n := e.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d after a refused offer", n)
	}
	if got := metric(t, e.reg, "canopy_whep_sessions_refused_total", "reason", "closed"); got != 1 {
		t.Errorf("refused{closed} = %v, want 1", got)
	}
	if r := e.do(t, http.MethodDelete, c.Location, "", ""); r.status != http.StatusNotFound {
		t.Errorf("DELETE of a session ended by Close: %d, want 404", r.status)
	}
	if err := e.srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestOptions: the CORS preflight of the endpoint and of a session.
func TestOptions(t *testing.T) {
	e := newEnv(t, envOpts{params: func(p *Params) { p.CORSOrigins = []string{"https://player.example"} }})
	for _, target := range []string{"/live/" + testStream + "/whep", "/live/" + testStream + "/whep/0123abcd"} {
		t.Run(target, func(t *testing.T) {
			r := e.do(t, http.MethodOptions, target, "", "",
				"Origin", "https://player.example", "Access-Control-Request-Method", "POST")
			if r.status != http.StatusNoContent {
				t.Fatalf("status %d, want 204", r.status)
			}
			methods := r.header.Get("Access-Control-Allow-Methods")
			for _, m := range []string{"POST", "PATCH", "DELETE", "OPTIONS"} {
				if !strings.Contains(methods, m) {
					t.Errorf("Access-Control-Allow-Methods %q lacks %s", methods, m)
				}
			}
			if h := r.header.Get("Access-Control-Allow-Headers"); !strings.Contains(h, "Content-Type") {
				t.Errorf("Access-Control-Allow-Headers %q lacks Content-Type", h)
			}
			if ap := r.header.Get("Accept-Post"); ap != ContentSDP {
				t.Errorf("Accept-Post %q", ap)
			}
			if ap := r.header.Get("Accept-Patch"); ap != ContentSDPFrag {
				t.Errorf("Accept-Patch %q", ap)
			}
			if o := r.header.Get("Access-Control-Allow-Origin"); o != "https://player.example" {
				t.Errorf("Access-Control-Allow-Origin %q, want the allowed origin echoed", o)
			}

			other := e.do(t, http.MethodOptions, target, "", "",
				"Origin", "https://elsewhere.example", "Access-Control-Request-Method", "POST")
			if o := other.header.Get("Access-Control-Allow-Origin"); o != "" {
				t.Errorf("another origin got Access-Control-Allow-Origin %q", o)
			}
			if eh := other.header.Get("Access-Control-Expose-Headers"); eh != "" {
				t.Errorf("another origin got Access-Control-Expose-Headers %q", eh)
			}
			none := e.do(t, http.MethodOptions, target, "", "")
			if o := none.header.Get("Access-Control-Allow-Origin"); o != "" {
				t.Errorf("no Origin got Access-Control-Allow-Origin %q", o)
			}
		})
	}
	// The allowed origin may read Location from the POST answer.
	_, offer := e.offer(t)
	r := e.do(t, http.MethodPost, "/live/"+testStream+"/whep", ContentSDP, offer, "Origin", "https://player.example")
	if r.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	if o := r.header.Get("Access-Control-Allow-Origin"); o != "https://player.example" {
		t.Errorf("POST Access-Control-Allow-Origin %q", o)
	}
	if eh := r.header.Get("Access-Control-Expose-Headers"); !strings.Contains(eh, "Location") || !strings.Contains(eh, "Link") {
		t.Errorf("Access-Control-Expose-Headers %q", eh)
	}
}

// TestLinkICEServers: the ICE servers are advertised as RFC 9725 section
// 4.6 Link headers, on the POST answer and on OPTIONS.
func TestLinkICEServers(t *testing.T) {
	// Nothing listens on these: the server's own gathering gives up on the
	// STUN server after a short STUN timeout, and on the TURN servers
	// (TCP and TLS) at once, connection refused.
	servers := []webrtc.ICEServer{
		{URLs: []string{"stun:127.0.0.1:9"}},
		{URLs: []string{"turn:127.0.0.1:9?transport=tcp", "turns:127.0.0.1:9?transport=tcp"},
			Username: "user", Credential: "myPassword", CredentialType: webrtc.ICECredentialTypePassword},
	}
	want := []string{
		`<stun:127.0.0.1:9>; rel="ice-server"`,
		`<turn:127.0.0.1:9?transport=tcp>; rel="ice-server"; username="user"; credential="myPassword"; credential-type="password"`,
		`<turns:127.0.0.1:9?transport=tcp>; rel="ice-server"; username="user"; credential="myPassword"; credential-type="password"`,
	}
	e := newEnv(t, envOpts{
		params:   func(p *Params) { p.ICEServers = servers },
		serverSE: func(se *webrtc.SettingEngine) { se.SetSTUNGatherTimeout(100 * time.Millisecond) },
	})
	_, offer := e.offer(t)
	post := e.post(t, testStream, offer)
	if post.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", post.status, post.body)
	}
	opts := e.do(t, http.MethodOptions, "/live/"+testStream+"/whep", "", "")
	for name, r := range map[string]reply{"POST": post, "OPTIONS": opts} {
		got := r.header.Values("Link")
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s Link headers:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestNewParams: New refuses missing and negative parameters, and metrics
// it cannot register.
func TestNewParams(t *testing.T) {
	api := webrtc.NewAPI()
	src := &fakeSource{stream: testStream}
	reg := prometheus.NewRegistry()
	if _, err := New(Params{Source: src, API: api, Registerer: reg}); err != nil {
		t.Fatalf("valid params: %v", err)
	}
	for name, p := range map[string]Params{
		"no Source":                  {API: api},
		"no API":                     {Source: src},
		"negative MaxSessions":       {Source: src, API: api, MaxSessions: -1},
		"negative MaxOfferSize":      {Source: src, API: api, MaxOfferSize: -1},
		"negative DisconnectTimeout": {Source: src, API: api, DisconnectTimeout: -time.Second},
		"metrics registered twice":   {Source: src, API: api, Registerer: reg},
	} {
		if _, err := New(p); !errors.Is(err, ErrParams) {
			t.Errorf("%s: %v, want ErrParams", name, err)
		}
	}
}
