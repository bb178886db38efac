package whep

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/sfu"
)

// session is one viewer's PeerConnection.
type session struct {
	id, stream string
	pc         *webrtc.PeerConnection
	dts        []*sfu.DownTrack

	mu     sync.Mutex // serialises renegotiation (PATCH) and ending
	ended  bool
	idle   *time.Timer // runs while disconnected
	closed chan struct{}
}

// create answers POST /live/{stream}/whep.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	stream := r.PathValue("stream")
	offer, ok := s.readBody(w, r, ContentSDP)
	if !ok {
		return
	}
	tracks := s.p.Source.Tracks(stream)
	if len(tracks) == 0 {
		s.m.refused.WithLabelValues("no_media").Inc()
		http.Error(w, "no low-latency media for stream "+strconv.Quote(stream)+" here", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	full, closed := len(s.sessions) >= s.p.MaxSessions, s.closed
	s.mu.Unlock()
	if full || closed {
		s.m.refused.WithLabelValues("full").Inc()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many WHEP sessions here; try again or use another node", http.StatusServiceUnavailable)
		return
	}
	pc, err := s.p.API.NewPeerConnection(webrtc.Configuration{ICEServers: s.p.ICEServers})
	if err != nil {
		s.log.Error("new peer connection", "err", err)
		http.Error(w, "cannot create a session", http.StatusInternalServerError)
		return
	}
	ss := &session{id: newID(), stream: stream, pc: pc, closed: make(chan struct{})}
	fail := func(status int, msg string) {
		s.m.refused.WithLabelValues("bad_offer").Inc()
		s.release(ss)
		http.Error(w, msg, status)
	}
	for _, t := range tracks {
		dt := t.NewDownTrack()
		ss.dts = append(ss.dts, dt)
		if _, err := pc.AddTrack(dt); err != nil {
			fail(http.StatusInternalServerError, "cannot add a track")
			return
		}
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		fail(http.StatusBadRequest, "invalid SDP offer: "+err.Error())
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		fail(http.StatusBadRequest, "cannot answer this offer: "+err.Error())
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		fail(http.StatusInternalServerError, "cannot apply the answer")
		return
	}
	if err := waitGathered(r.Context(), gathered); err != nil {
		fail(http.StatusServiceUnavailable, err.Error())
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		fail(http.StatusServiceUnavailable, "server closing")
		return
	}
	s.sessions[ss.id] = ss
	s.m.open.Set(float64(len(s.sessions)))
	s.mu.Unlock()
	s.m.created.Inc()
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) { s.stateChanged(ss, st) })

	h := w.Header()
	h.Set("Content-Type", ContentSDP)
	h.Set("Location", sessionURL(stream, ss.id))
	h.Set("Accept-Patch", ContentSDPFrag)
	h.Set("ETag", `"`+ss.id+`"`)
	s.linkICEServers(h)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(pc.LocalDescription().SDP))
	s.log.Debug("session created", "stream", stream, "session", ss.id)
}

// stateChanged ends failed and closed sessions, and those disconnected for
// longer than DisconnectTimeout.
func (s *Server) stateChanged(ss *session, st webrtc.PeerConnectionState) {
	switch st {
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		s.wg.Go(func() { s.end(ss, st.String()) })
	case webrtc.PeerConnectionStateDisconnected:
		ss.mu.Lock()
		if ss.idle == nil && !ss.ended {
			ss.idle = time.AfterFunc(s.p.DisconnectTimeout, func() { s.end(ss, "disconnected too long") })
		}
		ss.mu.Unlock()
	case webrtc.PeerConnectionStateConnected:
		ss.mu.Lock()
		if ss.idle != nil {
			ss.idle.Stop()
			ss.idle = nil
		}
		ss.mu.Unlock()
	}
}

// remove answers DELETE on a session.
func (s *Server) remove(w http.ResponseWriter, r *http.Request) {
	ss, ok := s.lookup(w, r)
	if !ok {
		return
	}
	s.end(ss, "deleted by the client")
	w.WriteHeader(http.StatusOK)
}

// end closes a session once.
func (s *Server) end(ss *session, why string) {
	ss.mu.Lock()
	if ss.ended {
		ss.mu.Unlock()
		return
	}
	ss.ended = true
	if ss.idle != nil {
		ss.idle.Stop()
	}
	ss.mu.Unlock()
	s.mu.Lock()
	delete(s.sessions, ss.id)
	s.m.open.Set(float64(len(s.sessions)))
	s.mu.Unlock()
	s.release(ss)
	close(ss.closed)
	s.log.Debug("session ended", "stream", ss.stream, "session", ss.id, "why", why)
}

// release frees a session's PeerConnection and tracks.
func (s *Server) release(ss *session) {
	_ = ss.pc.Close()
	for _, dt := range ss.dts {
		_ = dt.Close()
	}
}
