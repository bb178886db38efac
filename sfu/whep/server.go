package whep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/sfu"
)

// Defaults of Params.
const (
	DefaultMaxSessions       = 1000
	DefaultMaxOfferSize      = 64 << 10
	DefaultDisconnectTimeout = 15 * time.Second
	// gatherTimeout bounds ICE gathering before an answer is sent.
	gatherTimeout = 5 * time.Second
)

// Content types of WHEP.
const (
	ContentSDP     = "application/sdp"
	ContentSDPFrag = "application/trickle-ice-sdpfrag"
)

// Source gives the sfu tracks of a stream.
type Source interface {
	// Tracks returns the stream's live tracks, or none when the stream has
	// no low-latency media here: its video tracks ordered best (highest
	// bitrate) first, then audio. With several video tracks, each viewer
	// is sent one of them as its bandwidth estimate allows
	// (sfu.NewLayeredDownTrack).
	Tracks(stream string) []*sfu.Track
}

// Params configures a Server.
type Params struct {
	Source Source
	// API builds the sessions' PeerConnections: sfu.NewAPI, which leaves
	// retransmission to the sfu's shared buffers and estimates each
	// viewer's bandwidth for the choice of video layer. Required.
	API *webrtc.API
	// LayerPolicy says when a viewer moves between video layers; zero
	// fields take sfu's defaults.
	LayerPolicy sfu.LayerPolicy
	// ICEServers are given to every PeerConnection and advertised to
	// clients in Link headers.
	ICEServers []webrtc.ICEServer
	// MaxSessions bounds the sessions open at once; DefaultMaxSessions
	// when zero.
	MaxSessions int
	// MaxOfferSize bounds a request body; DefaultMaxOfferSize when zero.
	MaxOfferSize int
	// DisconnectTimeout closes a session whose connection has been
	// disconnected that long; DefaultDisconnectTimeout when zero.
	DisconnectTimeout time.Duration
	// CORSOrigins may call the endpoint from a page elsewhere; "*" (the
	// default when empty) allows any: a session carries nothing private.
	CORSOrigins []string
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

// Server serves WHEP sessions.
type Server struct {
	p   Params
	log *slog.Logger
	m   *metrics

	mu       sync.Mutex
	sessions map[string]*session
	// pending counts offers admitted but not yet sessions, so that offers
	// arriving together cannot exceed MaxSessions.
	pending int
	closed  bool
	// wg tracks the goroutines that end sessions; Add only under mu while
	// not closed, so that it never races with Close's Wait.
	wg sync.WaitGroup
}

// New checks p and returns a Server.
func New(p Params) (*Server, error) {
	if p.Source == nil || p.API == nil {
		return nil, fmt.Errorf("%w: Source and API are required", ErrParams)
	}
	if p.MaxSessions < 0 || p.MaxOfferSize < 0 || p.DisconnectTimeout < 0 {
		return nil, fmt.Errorf("%w: negative limit", ErrParams)
	}
	if p.MaxSessions == 0 {
		p.MaxSessions = DefaultMaxSessions
	}
	if p.MaxOfferSize == 0 {
		p.MaxOfferSize = DefaultMaxOfferSize
	}
	if p.DisconnectTimeout == 0 {
		p.DisconnectTimeout = DefaultDisconnectTimeout
	}
	if len(p.CORSOrigins) == 0 {
		p.CORSOrigins = []string{"*"}
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	return &Server{p: p, log: p.Logger.With("component", "whep"), m: m, sessions: map[string]*session{}}, nil
}

// Register adds the WHEP routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /live/{stream}/whep", s.cors(s.create))
	mux.HandleFunc("OPTIONS /live/{stream}/whep", s.cors(s.options))
	mux.HandleFunc("PATCH /live/{stream}/whep/{session}", s.cors(s.patch))
	mux.HandleFunc("DELETE /live/{stream}/whep/{session}", s.cors(s.remove))
	mux.HandleFunc("OPTIONS /live/{stream}/whep/{session}", s.cors(s.options))
}

// Sessions returns how many sessions are open.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close ends every session and refuses new ones.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		s.end(ss, "server closed")
	}
	s.wg.Wait()
	return nil
}

// goEnd ends ss on a goroutine that Close waits for. Once the server is
// closed it does nothing: Close ends every session itself.
func (s *Server) goEnd(ss *session, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.wg.Go(func() { s.end(ss, why) })
}

func (s *Server) cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			for _, allowed := range s.p.CORSOrigins {
				if allowed == "*" || allowed == o {
					w.Header().Set("Access-Control-Allow-Origin", allowed)
					w.Header().Set("Access-Control-Expose-Headers", "Location, Link, Accept-Patch")
					break
				}
			}
		}
		h(w, r)
	}
}

func (s *Server) options(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, If-Match, Authorization")
	h.Set("Accept-Post", ContentSDP)
	h.Set("Accept-Patch", ContentSDPFrag)
	s.linkICEServers(h)
	w.WriteHeader(http.StatusNoContent)
}

// linkICEServers advertises the ICE servers (RFC 9725 section 4.6).
func (s *Server) linkICEServers(h http.Header) {
	for _, srv := range s.p.ICEServers {
		for _, u := range srv.URLs {
			l := fmt.Sprintf("<%s>; rel=\"ice-server\"", u)
			if srv.Username != "" {
				l += fmt.Sprintf("; username=%q; credential=%q; credential-type=\"password\"", srv.Username, fmt.Sprint(srv.Credential))
			}
			h.Add("Link", l)
		}
	}
}

// readBody reads a body of the given content type, answering 415/413/400
// itself.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, want string) ([]byte, bool) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != want {
		http.Error(w, "Content-Type must be "+want, http.StatusUnsupportedMediaType)
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.p.MaxOfferSize)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("body over %d bytes", s.p.MaxOfferSize), http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		}
		return nil, false
	}
	return b, true
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// waitGathered waits for ICE gathering to complete, so the SDP sent holds
// every local candidate (clients need not trickle from the server).
func waitGathered(ctx context.Context, done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, gatherTimeout)
	defer cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ICE gathering: %w", ctx.Err())
	}
}

// sessionURL is where a session is patched and deleted.
func sessionURL(stream, id string) string {
	return "/live/" + stream + "/whep/" + id
}

// lookup finds the session of a PATCH or DELETE, answering 404 itself.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*session, bool) {
	s.mu.Lock()
	ss, ok := s.sessions[r.PathValue("session")]
	s.mu.Unlock()
	if !ok || ss.stream != r.PathValue("stream") {
		http.Error(w, "no such WHEP session", http.StatusNotFound)
		return nil, false
	}
	return ss, true
}

func trimmed(b []byte) string { return strings.TrimSpace(string(b)) }
