package chatapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/canopylive/canopy/node/comments"
	"github.com/canopylive/canopy/node/commentsync"
)

// Limits of the API.
const (
	// maxBody bounds a request body (a comment's JSON is well under it).
	maxBody = 8 << 10
	// DefaultHistory is the comments a GET without limit returns.
	DefaultHistory = 100
	// MaxHistory bounds ?limit= and the replay of a reconnecting feed.
	MaxHistory = 500
	// keepAlive is how often an idle event feed gets a comment line.
	keepAlive = 15 * time.Second
)

// Replicator is what the API needs of commentsync.Sync.
type Replicator interface {
	Post(ctx context.Context, c comments.Comment) error
	Moderate(ctx context.Context, sa comments.SignedAction) error
	React(stream, kind string) error
	Totals(stream string) (commentsync.Totals, bool)
	ModeratorKey() ed25519.PublicKey
}

// Params configures a Server.
type Params struct {
	Hub   *Hub
	Sync  Replicator
	Store *comments.Store
	Clock *comments.Clock
	// Streams reports whether a stream exists here (is carried by this
	// node, or configured on the origin).
	Streams func(stream string) bool
	// Comments limits comment posts per author and per client address;
	// Reactions limits reactions per client address (its PerAuthor is not
	// used). Both are required.
	Comments, Reactions *comments.RateLimiter
	// Signer, when set, is the broadcaster's key: the server signs
	// moderation for callers that Authorize accepts. Without it only
	// already-signed actions (POST …/moderation) are taken.
	Signer ed25519.PrivateKey
	// Authorize checks a broadcaster credential (the bearer token) for a
	// stream. Required with Signer.
	Authorize func(stream, token string) bool
	// ClientAddr returns the address a request is rate-limited by; the
	// host of RemoteAddr when nil.
	ClientAddr func(*http.Request) string
	Logger     *slog.Logger
	Now        func() time.Time
}

// Server serves the conversation API of one node.
type Server struct {
	p   Params
	log *slog.Logger
}

// New checks p and returns a Server.
func New(p Params) (*Server, error) {
	if p.Hub == nil || p.Sync == nil || p.Store == nil || p.Clock == nil || p.Streams == nil ||
		p.Comments == nil || p.Reactions == nil {
		return nil, fmt.Errorf("%w: Hub, Sync, Store, Clock, Streams, Comments and Reactions are required", ErrParams)
	}
	if p.Signer != nil && p.Authorize == nil {
		return nil, fmt.Errorf("%w: Signer without Authorize", ErrParams)
	}
	if p.ClientAddr == nil {
		p.ClientAddr = remoteHost
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return &Server{p: p, log: p.Logger.With("component", "chatapi")}, nil
}

// Register adds the API's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	const base = "/api/v1/streams/{stream}/"
	mux.HandleFunc("GET "+base+"comments", s.stream(s.listComments))
	mux.HandleFunc("POST "+base+"comments", s.stream(s.postComment))
	mux.HandleFunc("DELETE "+base+"comments/{id}", s.stream(s.deleteComment))
	mux.HandleFunc("GET "+base+"reactions", s.stream(s.getReactions))
	mux.HandleFunc("POST "+base+"reactions", s.stream(s.postReaction))
	mux.HandleFunc("GET "+base+"events", s.stream(s.events))
	mux.HandleFunc("POST "+base+"bans", s.stream(s.postBan))
	mux.HandleFunc("GET "+base+"announcements", s.stream(s.getAnnouncements))
	mux.HandleFunc("POST "+base+"announcements", s.stream(s.postAnnouncement))
	mux.HandleFunc("POST "+base+"moderation", s.stream(s.postSigned))
}

// stream checks the {stream} path value before h runs.
func (s *Server) stream(h func(w http.ResponseWriter, r *http.Request, stream string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		stream := r.PathValue("stream")
		if err := comments.ValidateStream(stream); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if !s.p.Streams(stream) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no stream %q here", stream))
			return
		}
		h(w, r, stream)
	}
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// readJSON decodes a bounded JSON body into v, answering 413 or 400 itself.
// The body must be valid UTF-8: encoding/json would otherwise turn invalid
// bytes into U+FFFD and store text the client never sent.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", maxBody))
		} else {
			writeError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		}
		return false
	}
	if !utf8.Valid(body) {
		writeError(w, http.StatusBadRequest, "request body is not valid UTF-8")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "request body is not the expected JSON: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeStoreError answers a failure of the store or the replicator:
// validation errors are the client's (400), the rest 503.
func (s *Server) writeStoreError(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, comments.ErrInvalid), errors.Is(err, comments.ErrClockDrift):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.log.Error(what, "err", err)
		writeError(w, http.StatusServiceUnavailable, what+" failed; try again")
	}
}
