package web

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Cache-Control values for assets.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// hashedAsset matches the names esbuild and build.mjs give content-hashed
// files ("watch-3KQ5XZ2B.js", "chunk-ABCDEFGH.js.map", "style-0f3a9c1d.css"):
// their content never changes under the same name, so browsers may keep
// them for a year without asking again.
var hashedAsset = regexp.MustCompile(`^[A-Za-z0-9_]+-[A-Za-z0-9]{8}\.(js|css)(\.map)?$`)

// assetTypes are the content types of the files a build produces; the
// system MIME table is not consulted so responses do not vary by host.
var assetTypes = map[string]string{
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".map":  "application/json",
	".txt":  "text/plain; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".webp": "image/webp",
}

// validAssetName accepts flat file names only: no directories, no dot files.
func validAssetName(name string) bool {
	if name == "" || len(name) > 128 || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ctype, known := assetTypes[path.Ext(name)]
	if !validAssetName(name) || !known {
		textError(w, http.StatusNotFound, "no such asset")
		return
	}
	if !h.built() {
		notBuilt(w)
		return
	}
	hd := w.Header()
	file := "assets/" + name
	encoding := ""
	if ctype != assetTypes[".map"] && exists(h.files, file+".gz") {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			file, encoding = file+".gz", "gzip"
		}
	}
	content, err := openSeeker(h.files, file)
	if errors.Is(err, fs.ErrNotExist) {
		textError(w, http.StatusNotFound, "no such asset")
		return
	}
	if err != nil {
		h.log.Error("open asset", "file", file, "err", err)
		textError(w, http.StatusInternalServerError, "cannot read asset")
		return
	}
	defer content.Close()
	hd.Set("Content-Type", ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	if encoding != "" {
		hd.Set("Content-Encoding", encoding)
	}
	if hashedAsset.MatchString(name) {
		hd.Set("Cache-Control", cacheImmutable)
	} else {
		hd.Set("Cache-Control", cacheRevalidate)
	}
	http.ServeContent(w, r, name, time.Time{}, content)
}

func exists(files fs.FS, name string) bool {
	st, err := fs.Stat(files, name)
	return err == nil && st.Mode().IsRegular()
}

type readSeekCloser interface {
	io.ReadSeeker
	io.Closer
}

// openSeeker opens a regular file for http.ServeContent.
func openSeeker(files fs.FS, name string) (readSeekCloser, error) {
	f, err := files.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, fs.ErrNotExist
	}
	if rs, ok := f.(readSeekCloser); ok {
		return rs, nil
	}
	b, err := io.ReadAll(f)
	_ = f.Close()
	if err != nil {
		return nil, err
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// acceptsGzip reports whether an Accept-Encoding header value allows gzip:
// a "gzip" (or "*") coding whose q-value is not zero.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}
