package whep

import (
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/pion/webrtc/v4"
)

// sdpFrag is what a trickle-ICE SDP fragment (RFC 8840) carries.
type sdpFrag struct {
	ufrag, pwd string
	candidates []webrtc.ICECandidateInit
}

// maxFragCandidates bounds the candidates of one PATCH.
const maxFragCandidates = 64

// parseFrag reads the lines of an SDP fragment that matter here: ICE
// credentials and candidates (with the media ID and the index of the media
// section they follow; 0 before any).
func parseFrag(s string) (sdpFrag, error) {
	var f sdpFrag
	var mid *string
	index, sections := uint16(0), 0
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "m="):
			if sections > 0 && index < math.MaxUint16 {
				index++
			}
			sections++
			mid = nil
		case strings.HasPrefix(line, "a=mid:"):
			v := strings.TrimPrefix(line, "a=mid:")
			mid = &v
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			f.ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=ice-pwd:"):
			f.pwd = strings.TrimPrefix(line, "a=ice-pwd:")
		case strings.HasPrefix(line, "a=candidate:"):
			if len(f.candidates) == maxFragCandidates {
				return f, fmt.Errorf("more than %d candidates", maxFragCandidates)
			}
			i := index
			f.candidates = append(f.candidates, webrtc.ICECandidateInit{Candidate: strings.TrimPrefix(line, "a="), SDPMid: mid, SDPMLineIndex: &i})
		}
	}
	if (f.ufrag == "") != (f.pwd == "") {
		return f, fmt.Errorf("ice-ufrag and ice-pwd must come together")
	}
	return f, nil
}

// patch answers PATCH on a session: new remote candidates (204), or an
// ICE restart when the fragment carries new credentials (200 with the
// server's new credentials and candidates).
func (s *Server) patch(w http.ResponseWriter, r *http.Request) {
	ss, ok := s.lookup(w, r)
	if !ok {
		return
	}
	body, ok := s.readBody(w, r, ContentSDPFrag)
	if !ok {
		return
	}
	frag, err := parseFrag(string(body))
	if err != nil {
		http.Error(w, "invalid SDP fragment: "+err.Error(), http.StatusBadRequest)
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		http.Error(w, "session ended", http.StatusNotFound)
		return
	}
	remote := ss.pc.RemoteDescription()
	if frag.ufrag != "" && remote != nil && !strings.Contains(remote.SDP, "a=ice-ufrag:"+frag.ufrag+"\r\n") {
		s.restart(w, r, ss, remote.SDP, frag)
		return
	}
	for _, c := range frag.candidates {
		if err := ss.pc.AddICECandidate(c); err != nil {
			http.Error(w, "invalid candidate: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// restart applies the client's new ICE credentials as a new offer and
// answers with the server's new ones. Media keeps flowing once ICE
// reconnects: the DTLS association and the tracks are kept.
func (s *Server) restart(w http.ResponseWriter, r *http.Request, ss *session, offer string, frag sdpFrag) {
	lines := strings.Split(offer, "\r\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "a=ice-ufrag:"):
			lines[i] = "a=ice-ufrag:" + frag.ufrag
		case strings.HasPrefix(l, "a=ice-pwd:"):
			lines[i] = "a=ice-pwd:" + frag.pwd
		}
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: strings.Join(lines, "\r\n")}
	if err := ss.pc.SetRemoteDescription(desc); err != nil {
		http.Error(w, "ICE restart refused: "+err.Error(), http.StatusBadRequest)
		return
	}
	for _, c := range frag.candidates {
		_ = ss.pc.AddICECandidate(c)
	}
	answer, err := ss.pc.CreateAnswer(nil)
	if err != nil {
		http.Error(w, "ICE restart: "+err.Error(), http.StatusInternalServerError)
		return
	}
	gathered := webrtc.GatheringCompletePromise(ss.pc)
	if err := ss.pc.SetLocalDescription(answer); err != nil {
		http.Error(w, "ICE restart: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if err := waitGathered(r.Context(), gathered); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", ContentSDPFrag)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(localFrag(ss.pc.LocalDescription().SDP)))
}

// localFrag extracts the ICE lines of a local description as an SDP
// fragment: credentials, and candidates under their media IDs.
func localFrag(sdp string) string {
	var b strings.Builder
	wroteCreds := false
	for _, l := range strings.Split(sdp, "\r\n") {
		switch {
		case strings.HasPrefix(l, "a=ice-ufrag:"), strings.HasPrefix(l, "a=ice-pwd:"):
			if !wroteCreds {
				b.WriteString(l + "\r\n")
			}
			if strings.HasPrefix(l, "a=ice-pwd:") {
				wroteCreds = true
			}
		case strings.HasPrefix(l, "m="), strings.HasPrefix(l, "a=mid:"), strings.HasPrefix(l, "a=candidate:"),
			l == "a=end-of-candidates":
			b.WriteString(l + "\r\n")
		}
	}
	return b.String()
}
