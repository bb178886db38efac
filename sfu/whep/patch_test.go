package whep

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// remoteCandidatePorts are the ports of the remote candidates a
// PeerConnection knows.
func remoteCandidatePorts(pc *webrtc.PeerConnection) map[int32]bool {
	ports := map[int32]bool{}
	for _, st := range pc.GetStats() {
		if c, ok := st.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeRemoteCandidate {
			ports[c.Port] = true
		}
	}
	return ports
}

// hostCandidate is a candidate line for 127.0.0.1:port. Tests use ports
// below Linux's ephemeral range (32768 up), so that they never clash with a
// real candidate's.
func hostCandidate(foundation, port int) string {
	return fmt.Sprintf("a=candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", foundation, port)
}

// openSession posts a fresh offer and returns the session's Location and
// the offer's ICE credentials.
func (e *env) openSession(t *testing.T) (string, sdpFrag) {
	t.Helper()
	_, offer := e.offer(t)
	r := e.post(t, testStream, offer)
	if r.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	creds, err := parseFrag(offer)
	if err != nil || creds.ufrag == "" {
		t.Fatalf("offer credentials: %+v, %v", creds, err)
	}
	return r.header.Get("Location"), creds
}

// TestPatchTrickle: a PATCH with candidates, with or without the current
// credentials, is 204 and the server's PeerConnection gets the candidates.
func TestPatchTrickle(t *testing.T) {
	e := newEnv(t, envOpts{})
	loc, creds := e.openSession(t)
	ss := e.session(t, loc)
	answerBefore := ss.pc.LocalDescription().SDP

	withCreds := "a=ice-ufrag:" + creds.ufrag + "\r\na=ice-pwd:" + creds.pwd + "\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n" + hostCandidate(1, 21001) + "\r\na=end-of-candidates\r\n"
	noCreds := "m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:0\n" + hostCandidate(2, 21002) + "\n"
	for name, frag := range map[string]string{"with credentials": withCreds, "without credentials": noCreds} {
		r := e.do(t, http.MethodPatch, loc, ContentSDPFrag, frag)
		if r.status != http.StatusNoContent {
			t.Errorf("PATCH %s: %d %s, want 204", name, r.status, r.body)
		}
		if r.body != "" {
			t.Errorf("PATCH %s: body %q", name, r.body)
		}
	}
	// pion's ICE agent adds remote candidates on a goroutine of its own.
	waitFor(t, "the trickled candidates on the server", func() bool {
		ports := remoteCandidatePorts(ss.pc)
		return ports[21001] && ports[21002]
	})
	if ss.pc.LocalDescription().SDP != answerBefore {
		t.Error("a trickle PATCH with the current credentials renegotiated")
	}
	if n := e.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d, want 1", n)
	}
}

// TestPatchRefusals: malformed fragments are 400 (and apply nothing), the
// wrong content type 415, an oversized body 413; the session survives.
func TestPatchRefusals(t *testing.T) {
	e := newEnv(t, envOpts{})
	loc, creds := e.openSession(t)
	ss := e.session(t, loc)

	var many strings.Builder
	many.WriteString("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n")
	for i := range maxFragCandidates + 1 {
		many.WriteString(hostCandidate(100+i, 20000+i) + "\r\n")
	}
	cases := []struct {
		name, ctype, body string
		status            int
	}{
		{"ufrag without pwd", ContentSDPFrag, "a=ice-ufrag:abcd\r\n" + hostCandidate(1, 20100) + "\r\n", http.StatusBadRequest},
		{"pwd without ufrag", ContentSDPFrag, "a=ice-pwd:" + creds.pwd + "\r\n" + hostCandidate(1, 20101) + "\r\n", http.StatusBadRequest},
		{"more than 64 candidates", ContentSDPFrag, many.String(), http.StatusBadRequest},
		{"unparsable candidate", ContentSDPFrag, "a=mid:0\r\na=candidate:this is no candidate\r\n", http.StatusBadRequest},
		{"SDP content type", ContentSDP, hostCandidate(1, 20102) + "\r\n", http.StatusUnsupportedMediaType},
		{"no content type", "", hostCandidate(1, 20103) + "\r\n", http.StatusUnsupportedMediaType},
		{"over MaxOfferSize", ContentSDPFrag, strings.Repeat("a=x\r\n", DefaultMaxOfferSize/5+1), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, http.MethodPatch, loc, tc.ctype, tc.body)
			if r.status != tc.status {
				t.Errorf("status %d (%s), want %d", r.status, strings.TrimSpace(r.body), tc.status)
			}
		})
	}
	// A valid trickle after the refused ones: pion adds remote candidates
	// on goroutines of its own, so wait for this one to show; a refused
	// PATCH's candidates, had any been added, would have been added
	// before it.
	if r := e.do(t, http.MethodPatch, loc, ContentSDPFrag, hostCandidate(9, 21001)+"\r\n"); r.status != http.StatusNoContent {
		t.Fatalf("valid PATCH: %d %s", r.status, r.body)
	}
	waitFor(t, "the valid candidate on the server", func() bool { return remoteCandidatePorts(ss.pc)[21001] })
	for p := range remoteCandidatePorts(ss.pc) {
		if p >= 20000 && p <= 20200 {
			t.Errorf("a refused PATCH added the remote candidate port %d", p)
		}
	}
	if n := e.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d after refused PATCHes, want 1", n)
	}
	if st := ss.pc.ConnectionState(); st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed {
		t.Errorf("session's PeerConnection %s after refused PATCHes", st)
	}
}

// TestUnknownSession: PATCH and DELETE of a session that does not exist,
// or of a real session under another stream's URL, are 404 and change
// nothing.
func TestUnknownSession(t *testing.T) {
	e := newEnv(t, envOpts{})
	loc, _ := e.openSession(t)
	id := loc[strings.LastIndex(loc, "/")+1:]
	frag := "a=mid:0\r\n" + hostCandidate(1, 21001) + "\r\n"
	for _, target := range []string{
		"/live/" + testStream + "/whep/00000000000000000000000000000000",
		"/live/other/whep/" + id,
	} {
		if r := e.do(t, http.MethodPatch, target, ContentSDPFrag, frag); r.status != http.StatusNotFound {
			t.Errorf("PATCH %s: %d, want 404", target, r.status)
		}
		if r := e.do(t, http.MethodDelete, target, "", ""); r.status != http.StatusNotFound {
			t.Errorf("DELETE %s: %d, want 404", target, r.status)
		}
	}
	if n := e.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d, want the real session kept", n)
	}
	// pion adds remote candidates on goroutines of its own: once a later
	// PATCH under the right URL has shown on the session, the earlier
	// ones under wrong URLs would have too, had they reached it.
	ss := e.session(t, loc)
	if r := e.do(t, http.MethodPatch, loc, ContentSDPFrag, "a=mid:0\r\n"+hostCandidate(2, 21002)+"\r\n"); r.status != http.StatusNoContent {
		t.Fatalf("PATCH of the session: %d %s", r.status, r.body)
	}
	waitFor(t, "the session's own candidate", func() bool { return remoteCandidatePorts(ss.pc)[21002] })
	if remoteCandidatePorts(ss.pc)[21001] {
		t.Error("a PATCH under another stream reached the session")
	}
}

// TestDelete: DELETE ends the session (200) and frees its viewers; the
// same DELETE, or a PATCH, is then 404.
func TestDelete(t *testing.T) {
	e := newEnv(t, envOpts{})
	c, rcv := e.dial(t, testStream)
	connected(t, c.PC)
	rcv.waitMedia(t, "media before DELETE", 5)
	ss := e.session(t, c.Location)

	if r := e.do(t, http.MethodDelete, c.Location, "", ""); r.status != http.StatusOK {
		t.Fatalf("DELETE: %d %s, want 200", r.status, r.body)
	}
	if n := e.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() = %d after DELETE", n)
	}
	if v, a := e.viewers(); v != 0 || a != 0 {
		t.Errorf("viewers %d video, %d audio after DELETE", v, a)
	}
	if st := ss.pc.ConnectionState(); st != webrtc.PeerConnectionStateClosed {
		t.Errorf("server PeerConnection %s after DELETE, want closed", st)
	}
	if r := e.do(t, http.MethodDelete, c.Location, "", ""); r.status != http.StatusNotFound {
		t.Errorf("second DELETE: %d, want 404", r.status)
	}
	if r := e.do(t, http.MethodPatch, c.Location, ContentSDPFrag, hostCandidate(1, 21001)+"\r\n"); r.status != http.StatusNotFound {
		t.Errorf("PATCH after DELETE: %d, want 404", r.status)
	}
}

// restartAnswer is the server's earlier answer with the ICE credentials and
// candidates of an ICE restart's answer fragment.
func restartAnswer(old string, f sdpFrag) string {
	var b strings.Builder
	wroteCandidates := false
	for l := range strings.SplitSeq(strings.TrimSuffix(old, "\r\n"), "\r\n") {
		switch {
		case strings.HasPrefix(l, "a=ice-ufrag:"):
			l = "a=ice-ufrag:" + f.ufrag
		case strings.HasPrefix(l, "a=ice-pwd:"):
			l = "a=ice-pwd:" + f.pwd
		case strings.HasPrefix(l, "a=candidate:"):
			continue
		}
		b.WriteString(l + "\r\n")
		if strings.HasPrefix(l, "a=ice-pwd:") && !wroteCandidates {
			for _, c := range f.candidates {
				b.WriteString("a=" + c.Candidate + "\r\n")
			}
			wroteCandidates = true
		}
	}
	return b.String()
}

// TestICERestart: a PATCH with new client credentials restarts ICE: 200
// with the server's new credentials and candidates; once the client applies
// them, media flows again over the new ICE session (both agents dropped
// their selected pair when they restarted, so nothing arrives without it).
func TestICERestart(t *testing.T) {
	e := newEnv(t, envOpts{})
	c, rcv := e.dial(t, testStream)
	connected(t, c.PC)
	rcv.waitMedia(t, "media before the restart", 10)
	ss := e.session(t, c.Location)
	oldAnswer := c.PC.CurrentRemoteDescription().SDP
	oldServer, err := parseFrag(oldAnswer)
	if err != nil {
		t.Fatal(err)
	}
	oldClient, err := parseFrag(c.PC.CurrentLocalDescription().SDP)
	if err != nil {
		t.Fatal(err)
	}

	// The client's side of the restart: new credentials, new candidates.
	offer, err := c.PC.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(c.PC)
	if err := c.PC.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(testTimeout):
		t.Fatal("client gathering after the restart did not complete")
	}
	clientFrag := localFrag(c.PC.LocalDescription().SDP)
	newClient, err := parseFrag(clientFrag)
	if err != nil || newClient.ufrag == oldClient.ufrag || len(newClient.candidates) == 0 {
		t.Fatalf("client restart fragment %q: %+v, %v", clientFrag, newClient, err)
	}

	r := e.do(t, http.MethodPatch, c.Location, ContentSDPFrag, clientFrag)
	if r.status != http.StatusOK {
		t.Fatalf("restart PATCH: %d %s, want 200", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != ContentSDPFrag {
		t.Errorf("restart answer Content-Type %q", ct)
	}
	newServer, err := parseFrag(r.body)
	if err != nil {
		t.Fatalf("restart answer %q: %v", r.body, err)
	}
	if newServer.ufrag == "" || newServer.ufrag == oldServer.ufrag || newServer.pwd == oldServer.pwd {
		t.Errorf("server credentials %s/%s after the restart, %s/%s before: want new ones",
			newServer.ufrag, newServer.pwd, oldServer.ufrag, oldServer.pwd)
	}
	if len(newServer.candidates) == 0 || !strings.Contains(r.body, "a=mid:") {
		t.Errorf("restart answer without candidates under a media ID:\n%s", r.body)
	}
	if st := ss.pc.ConnectionState(); st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
		t.Errorf("server PeerConnection %s after the restart", st)
	}
	if sdp := ss.pc.LocalDescription().SDP; !strings.Contains(sdp, "a=ice-ufrag:"+newServer.ufrag+"\r\n") {
		t.Error("server's local description does not carry its new ufrag")
	}
	if remote := ss.pc.RemoteDescription().SDP; !strings.Contains(remote, "a=ice-ufrag:"+newClient.ufrag+"\r\n") {
		t.Error("server's remote description does not carry the client's new ufrag")
	}

	// The client's side: the earlier answer with the new ICE lines.
	answer := restartAnswer(oldAnswer, newServer)
	if err := c.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("client applying the restart answer: %v", err)
	}
	waitFor(t, "client ICE connected after the restart", func() bool {
		st := c.PC.ICEConnectionState()
		return st == webrtc.ICEConnectionStateConnected || st == webrtc.ICEConnectionStateCompleted
	})
	rcv.waitMedia(t, "media after the restart", 25)
	if st := ss.pc.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
		t.Errorf("server PeerConnection %s after the restart, want connected", st)
	}
	if n := e.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d after the restart, want 1", n)
	}
}
