package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"time"
)

// page is an HTML page held in memory with its validator.
type page struct {
	body []byte
	etag string
}

// loadPages reads the named pages from files. It returns nil, nil when none
// of them exists (the app was never built) and ErrBadBundle when only some do.
func loadPages(files fs.FS, names ...string) (map[string]page, error) {
	pages := make(map[string]page, len(names))
	var missing []string
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, name)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("web: read %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		pages[name] = page{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	switch {
	case len(missing) == len(names):
		return nil, nil
	case len(missing) > 0:
		return nil, fmt.Errorf("%w: missing %v", ErrBadBundle, missing)
	}
	return pages, nil
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	h.servePage(w, r, indexPage)
}

func (h *Handler) serveWatch(w http.ResponseWriter, r *http.Request) {
	if !validStreamName(r.PathValue("stream")) {
		textError(w, http.StatusBadRequest, "invalid stream name")
		return
	}
	h.servePage(w, r, watchPage)
}

// servePage answers with an HTML page that browsers must revalidate on every
// use (no-cache with an ETag), so a new build is picked up at once while the
// hashed assets it names stay cached forever.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request, name string) {
	if !h.built() {
		notBuilt(w)
		return
	}
	pg := h.pages[name]
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", pg.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(pg.body))
}

// maxStreamNameLength is the longest stream name /watch/{stream} accepts.
const maxStreamNameLength = 64

// validStreamName reports whether s can name a stream in /watch/{stream}:
// 1 to 64 ASCII letters, digits, '-', '_' or '.', and not "." or "..".
func validStreamName(s string) bool {
	if len(s) == 0 || len(s) > maxStreamNameLength || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}
