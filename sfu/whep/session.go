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

	mu     sync.Mutex // serialises renegotiation (PATCH), state changes and ending
	ended  bool
	idle   *time.Timer // runs while disconnected
	idleN  int         // counts the idle timers started, to tell a stale one
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
	// Admit the offer: it holds a place (pending) until it becomes a
	// session or fails, so that offers arriving together cannot exceed
	// MaxSessions.
	s.mu.Lock()
	full, closed := len(s.sessions)+s.pending >= s.p.MaxSessions, s.closed
	if !full && !closed {
		s.pending++
	}
	s.mu.Unlock()
	switch {
	case closed:
		s.m.refused.WithLabelValues("closed").Inc()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "server closing; use another node", http.StatusServiceUnavailable)
		return
	case full:
		s.m.refused.WithLabelValues("full").Inc()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many WHEP sessions here; try again or use another node", http.StatusServiceUnavailable)
		return
	}
	admitted := true
	defer func() {
		if admitted {
			s.mu.Lock()
			s.pending--
			s.mu.Unlock()
		}
	}()
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
	var video []*sfu.Track
	for _, t := range tracks {
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			video = append(video, t)
		}
	}
	if len(video) > 0 {
		dt, err := sfu.NewLayeredDownTrack(sfu.LayeredParams{Tracks: video, Policy: s.p.LayerPolicy, OnSwitch: s.m.layerSwitch})
		if err != nil {
			s.log.Error("layered video", "stream", stream, "err", err)
			fail(http.StatusInternalServerError, "cannot add the video")
			return
		}
		ss.dts = append(ss.dts, dt)
	}
	for _, t := range tracks {
		if t.Kind() != webrtc.RTPCodecTypeVideo {
			ss.dts = append(ss.dts, t.NewDownTrack())
		}
	}
	for _, dt := range ss.dts {
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
	s.pending--
	admitted = false
	if s.closed {
		s.mu.Unlock()
		fail(http.StatusServiceUnavailable, "server closing")
		return
	}
	s.sessions[ss.id] = ss
	s.m.open.Set(float64(len(s.sessions)))
	s.mu.Unlock()
	s.m.created.Inc()
	pc.OnConnectionStateChange(func(webrtc.PeerConnectionState) { s.stateChanged(ss) })
	s.stateChanged(ss) // a change before the handler was set

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
// longer than DisconnectTimeout (until they are connected again). pion
// calls each state handler on a goroutine of its own, so handlers may run
// out of order: it acts on the connection's current state, read under
// ss.mu, so the last handler to run sees the last state.
func (s *Server) stateChanged(ss *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return
	}
	switch st := ss.pc.ConnectionState(); st {
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		s.goEnd(ss, st.String())
	case webrtc.PeerConnectionStateDisconnected:
		if ss.idle == nil {
			ss.idleN++
			n := ss.idleN
			ss.idle = time.AfterFunc(s.p.DisconnectTimeout, func() { s.idleExpired(ss, n) })
		}
	case webrtc.PeerConnectionStateConnected:
		if ss.idle != nil {
			ss.idle.Stop()
			ss.idle = nil
		}
	}
}

// idleExpired ends a session whose idle timer n ran out, unless the
// connection came back meanwhile (the timer was stopped too late).
func (s *Server) idleExpired(ss *session, n int) {
	ss.mu.Lock()
	current := ss.idle != nil && ss.idleN == n
	ss.mu.Unlock()
	if current {
		s.goEnd(ss, "disconnected too long")
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
