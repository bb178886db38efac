package web

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
)

// Errors returned by New.
var (
	// ErrBadBundle means the bundle has some pages but not all of them.
	ErrBadBundle = errors.New("web: incomplete app bundle")
)

// Params configures a Handler.
type Params struct {
	// Logger receives the handler's few log lines; nil discards them.
	Logger *slog.Logger
	// PublicKey returns the origin's Ed25519 public key in standard base64
	// (as GET /api/v1/origin publishes it), or "" while it is unknown. The
	// player verifies every segment against it. Nil means always "".
	PublicKey func() string
	// Trackers returns the WebSocket tracker URLs a browser should announce
	// to for this request. Nil or empty lets the page use
	// ws(s)://<its host>/tracker.
	Trackers func(r *http.Request) []string

	// files replaces the embedded bundle in tests: a tree laid out like
	// web/dist (index.html, watch.html, assets/...).
	files fs.FS
}

// Handler serves the embedded browser app. It is safe for concurrent use.
type Handler struct {
	log       *slog.Logger
	publicKey func() string
	trackers  func(r *http.Request) []string
	files     fs.FS
	// pages holds the HTML pages by file name; nil when the app was never
	// built (the bundle has only its placeholder).
	pages map[string]page
}

// Page file names in the bundle.
const (
	indexPage = "index.html"
	watchPage = "watch.html"
)

// New reads the bundle's pages. A bundle without pages (never built) is not
// an error: the pages then answer 503 with a hint to build the app.
func New(p Params) (*Handler, error) {
	h := &Handler{log: p.Logger, publicKey: p.PublicKey, trackers: p.Trackers, files: p.files}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("component", "web")
	if h.files == nil {
		sub, err := fs.Sub(bundle, "dist")
		if err != nil {
			return nil, fmt.Errorf("web: embedded bundle: %w", err)
		}
		h.files = sub
	}
	pages, err := loadPages(h.files, indexPage, watchPage)
	if err != nil {
		return nil, err
	}
	h.pages = pages
	if pages == nil {
		h.log.Warn("web app not built; pages answer 503 until `make web` has run")
	}
	return h, nil
}

// Register adds the app's routes to mux:
//
//	GET /{$}               live stream list
//	GET /watch/{stream}    player
//	GET /assets/{file...}  bundled scripts, styles and source maps
//	GET /api/v1/player     {"public_key": ..., "trackers": [...]}
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.serveIndex)
	mux.HandleFunc("GET /watch/{stream}", h.serveWatch)
	mux.HandleFunc("GET /assets/{file...}", h.serveAsset)
	mux.HandleFunc("GET /api/v1/player", h.servePlayerInfo)
}

// built reports whether the bundle holds the app (not just the placeholder).
func (h *Handler) built() bool { return h.pages != nil }

func textError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

// notBuilt answers a request that needs the bundle when there is none.
func notBuilt(w http.ResponseWriter) {
	textError(w, http.StatusServiceUnavailable, "web app not built: run `make web`")
}
