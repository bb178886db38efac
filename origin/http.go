package origin

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newHTTPServer serves HTTP/1.1 and HTTP/2 (h2c without TLS, h2 with it).
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	protos.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           h,
		Protocols:         &protos,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
}

// Handler returns the origin's HTTP routes.
func (o *Origin) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, o.instrument(name, h))
	}
	route("GET /live/{stream}/master.m3u8", "master", o.serveMaster)
	route("GET /live/{stream}/manifest.mpd", "mpd", o.serveMPD)
	route("GET /live/{stream}/{rendition}/index.m3u8", "media_playlist", o.serveMediaPlaylist)
	route("GET /live/{stream}/{rendition}/records.json", "records", o.serveRecords)
	route("GET /live/{stream}/{rendition}/{file}", "segment", o.serveSegment)
	route("GET /api/v1/streams", "api_streams", o.serveStreams)
	route("GET /api/v1/origin", "api_origin", o.serveOriginInfo)
	if o.whep != nil {
		o.whep.Register(mux)
	}
	if o.p.Routes != nil {
		o.p.Routes(mux)
	} else {
		route("GET /{$}", "index", o.serveIndex)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.p.Registry, promhttp.HandlerOpts{}))
	var h http.Handler = mux
	if o.whep != nil && o.p.LowLatency.Router != nil {
		h = o.redirectWHEP(mux)
	}
	return o.cors(h)
}

// cors lets players on other origins fetch playlists and segments.
func (o *Origin) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			if allow := o.allowOrigin(origin); allow != "" {
				h := w.Header()
				h.Set("Access-Control-Allow-Origin", allow)
				h.Set("Access-Control-Expose-Headers", "Content-Length, Canopy-Record")
				if allow != "*" {
					h.Add("Vary", "Origin")
				}
			}
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Range, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (o *Origin) allowOrigin(origin string) string {
	for _, a := range o.p.CORSOrigins {
		if a == "*" {
			return "*"
		}
		if strings.EqualFold(a, origin) {
			return origin
		}
	}
	return ""
}

// instrument counts requests, bytes and latency per route.
func (o *Origin) instrument(route string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cw := &countingWriter{ResponseWriter: w, code: http.StatusOK}
		next(cw, r)
		o.metrics.httpRequests.WithLabelValues(route, strconv.Itoa(cw.code)).Inc()
		o.metrics.httpBytes.WithLabelValues(route).Add(float64(cw.n))
		o.metrics.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type countingWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (c *countingWriter) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

// clientAddr is the remote host without the port.
func clientAddr(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}
