package node

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/manifest"
)

// Cache-Control values, as the origin sends them.
const (
	cacheLive      = "no-cache"
	cacheEnded     = "public, max-age=60"
	cacheImmutable = "public, max-age=31536000, immutable"
	maxRecords     = 1000
	// memoryServeMax is the largest segment served from memory rather
	// than from its file copy.
	memoryServeMax = 64 << 10
)

// Handler serves the cache at the origin's paths: HLS, DASH, segments and
// records.json under /live/{stream}/, with CORS for any origin, and
// /metrics when Params.Registry is a *prometheus.Registry.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /live/{stream}/master.m3u8", n.serveMaster)
	mux.HandleFunc("GET /live/{stream}/manifest.mpd", n.serveMPD)
	mux.HandleFunc("GET /live/{stream}/{rendition}/index.m3u8", n.serveMediaPlaylist)
	mux.HandleFunc("GET /live/{stream}/{rendition}/records.json", n.serveRecords)
	mux.HandleFunc("GET /live/{stream}/{rendition}/{file}", n.serveSegment)
	mux.HandleFunc("GET /api/v1/streams", n.serveStreams)
	if g, ok := n.p.Registry.(prometheus.Gatherer); ok {
		mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	return cors(mux)
}

// Header values every response shares. Assigning these slices (length ==
// capacity, so an append elsewhere copies) spares each request their
// allocation and canonicalisation.
var (
	hdrAllowAny     = []string{"*"}
	hdrExpose       = []string{"Content-Length, Canopy-Record"}
	hdrSegmentType  = []string{"video/iso.segment"}
	hdrInitType     = []string{"video/mp4"}
	hdrImmutable    = []string{cacheImmutable}
	hdrAllowMethods = []string{"GET, HEAD, OPTIONS"}
	hdrAllowHeaders = []string{"Range, Content-Type"}
	hdrMaxAge       = []string{"86400"}
)

func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Access-Control-Allow-Origin"] = hdrAllowAny
		h["Access-Control-Expose-Headers"] = hdrExpose
		if r.Method == http.MethodOptions {
			h["Access-Control-Allow-Methods"] = hdrAllowMethods
			h["Access-Control-Allow-Headers"] = hdrAllowHeaders
			h["Access-Control-Max-Age"] = hdrMaxAge
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

// view is a consistent snapshot of a stream for rendering manifests.
type view struct {
	info    StreamInfo
	media   map[string][]proto.Segment // trailing consecutive run per rendition
	started time.Time
	gen     uint64 // the cache generation it shows
}

func (n *Node) snapshot(w http.ResponseWriter, r *http.Request) (view, bool) {
	s := n.stream(r.PathValue("stream"), false)
	if s == nil {
		httpError(w, http.StatusNotFound, "unknown stream")
		return view{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cache
	if c.info.Broadcast == "" {
		httpError(w, http.StatusNotFound, "stream is starting; no segments yet")
		return view{}, false
	}
	v := view{info: c.info, media: map[string][]proto.Segment{}, started: c.started, gen: c.gen}
	for _, rend := range c.names() {
		seqs := c.sequences(rend)
		lo := len(seqs) - 1
		for lo > 0 && seqs[lo-1]+1 == seqs[lo] {
			lo--
		}
		var run []proto.Segment
		for _, seq := range seqs[max(lo, 0):] {
			run = append(run, c.rends[rend].media[seq].rec)
		}
		v.media[rend] = run
	}
	return v, true
}

func (v view) renditions() []manifest.Rendition { return masterRenditions(v.info) }

func (v view) cacheControl() string {
	if v.info.Ended {
		return cacheEnded
	}
	return cacheLive
}

func (v view) segDuration() time.Duration {
	if v.info.SegmentDuration > 0 {
		return v.info.SegmentDuration
	}
	return defaultSegDuration
}

func (n *Node) writeManifest(w http.ResponseWriter, v view, ctype string, body []byte, err error) {
	if err != nil {
		n.log.Info("render manifest", "stream", v.info.Stream, "err", err)
		httpError(w, http.StatusNotFound, "stream is not ready")
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", v.cacheControl())
	_, _ = w.Write(body)
}

func (n *Node) serveMaster(w http.ResponseWriter, r *http.Request) {
	n.serveHLS(w, r, "master", func(v view) ([]byte, error) {
		return manifest.HLSMultivariant(v.renditions())
	})
}

func (n *Node) serveMediaPlaylist(w http.ResponseWriter, r *http.Request) {
	rend := r.PathValue("rendition")
	n.serveHLS(w, r, "media/"+rend, func(v view) ([]byte, error) {
		segs := v.media[rend]
		if len(segs) == 0 {
			return nil, errNoSegments
		}
		return manifest.HLSMedia(manifest.Media{
			Segments: segs, TargetDuration: v.segDuration(), Ended: v.info.Ended, VOD: false,
		})
	})
}

// errNoSegments is a rendition with nothing to list (yet).
var errNoSegments = errors.New("no segments for this rendition")

// serveHLS serves the HLS playlist key, rendering it only when the stream's
// cache changed since it was last rendered: between two segments every
// player's reload gets the same bytes, and rendering walks the whole window.
func (n *Node) serveHLS(w http.ResponseWriter, r *http.Request, key string, render func(view) ([]byte, error)) {
	const ctype = "application/vnd.apple.mpegurl"
	if s := n.stream(r.PathValue("stream"), false); s != nil {
		s.mu.Lock()
		m, ok := s.cache.rendered[key]
		fresh := ok && m.gen == s.cache.gen
		s.mu.Unlock()
		if fresh {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", m.cacheControl)
			_, _ = w.Write(m.body)
			return
		}
	}
	v, ok := n.snapshot(w, r)
	if !ok {
		return
	}
	body, err := render(v)
	if errors.Is(err, errNoSegments) {
		httpError(w, http.StatusNotFound, err.Error())
		return
	}
	if err == nil {
		if s := n.stream(v.info.Stream, false); s != nil {
			s.mu.Lock()
			if s.cache.gen == v.gen {
				if s.cache.rendered == nil {
					s.cache.rendered = map[string]renderedManifest{}
				}
				s.cache.rendered[key] = renderedManifest{gen: v.gen, body: body, cacheControl: v.cacheControl()}
			}
			s.mu.Unlock()
		}
	}
	n.writeManifest(w, v, ctype, body, err)
}

func (n *Node) serveMPD(w http.ResponseWriter, r *http.Request) {
	v, ok := n.snapshot(w, r)
	if !ok {
		return
	}
	// DASH needs the same sequence range in every rendition.
	var lo, hi uint64
	for i, rd := range v.info.Renditions {
		segs := v.media[rd.Name]
		if len(segs) == 0 {
			httpError(w, http.StatusNotFound, "stream is starting; no segments yet")
			return
		}
		a, b := segs[0].Sequence, segs[len(segs)-1].Sequence
		if i == 0 || a > lo {
			lo = a
		}
		if i == 0 || b < hi {
			hi = b
		}
	}
	segments := map[string][]proto.Segment{}
	for _, rd := range v.info.Renditions {
		for _, s := range v.media[rd.Name] {
			if s.Sequence >= lo && s.Sequence <= hi {
				segments[rd.Name] = append(segments[rd.Name], s)
			}
		}
	}
	body, err := manifest.DASHManifest(manifest.DASH{
		Renditions: v.renditions(), Segments: segments, Live: !v.info.Ended,
		AvailabilityStart: v.started, Now: n.now(), SegmentDuration: v.segDuration(),
		TimeShiftBuffer: n.p.Window,
	})
	n.writeManifest(w, v, "application/dash+xml", body, err)
}

func (n *Node) serveSegment(w http.ResponseWriter, r *http.Request) {
	kind, seq, err := proto.ParseFileName(r.PathValue("file"))
	if err != nil {
		httpError(w, http.StatusNotFound, "not a segment name")
		return
	}
	e, ok := n.entry(r.PathValue("stream"), r.PathValue("rendition"), kind, seq)
	if !ok {
		httpError(w, http.StatusNotFound, "no such segment")
		return
	}
	h := w.Header()
	h["Canopy-Record"] = e.hdr
	h["Content-Type"] = hdrSegmentType
	if kind == proto.KindInit {
		h["Content-Type"] = hdrInitType
	}
	h["Cache-Control"] = hdrImmutable
	h["Content-Length"] = e.length
	// Large bodies from the file copy when there is one, so net/http can
	// use sendfile; small ones from memory, where one write is cheaper
	// than open, fstat, sendfile and close.
	if len(e.data) <= memoryServeMax {
		_, _ = w.Write(e.data)
		return
	}
	// The copy is complete whenever it exists: it is written to a
	// temporary name and renamed into place.
	if f, err := os.Open(n.files.path(e.rec)); err == nil {
		defer corkFor(w, r)()
		defer f.Close()
		_, _ = io.Copy(w, f)
		return
	}
	_, _ = w.Write(e.data)
}

func (n *Node) serveRecords(w http.ResponseWriter, r *http.Request) {
	var since uint64
	if q := r.URL.Query().Get("since"); q != "" {
		var err error
		if since, err = strconv.ParseUint(q, 10, 64); err != nil {
			httpError(w, http.StatusBadRequest, "since must be a segment sequence number")
			return
		}
	}
	s := n.stream(r.PathValue("stream"), false)
	if s == nil {
		httpError(w, http.StatusNotFound, "unknown stream")
		return
	}
	rend := r.PathValue("rendition")
	recs := []proto.Segment{}
	s.mu.Lock()
	for _, e := range s.cache.inits() {
		if e.rec.Rendition == rend {
			recs = append(recs, e.rec)
		}
	}
	for _, seq := range s.cache.sequences(rend) {
		if len(recs) >= maxRecords {
			break
		}
		if seq >= since {
			recs = append(recs, s.cache.rends[rend].media[seq].rec)
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheLive)
	_ = json.NewEncoder(w).Encode(recs)
}
