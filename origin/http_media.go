package origin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/manifest"
)

const (
	cacheLive      = "no-cache"
	cacheEnded     = "public, max-age=60"
	cacheImmutable = "public, max-age=31536000, immutable"
)

// broadcastFor resolves {stream} to its current broadcast and counts the
// request's client as a viewer.
func (o *Origin) broadcastFor(w http.ResponseWriter, r *http.Request) *broadcast {
	id := r.PathValue("stream")
	b := o.hub.current(id)
	if b == nil || !proto.ValidName(id) {
		httpError(w, http.StatusNotFound, "unknown stream "+strconv.Quote(id))
		return nil
	}
	o.viewers.touch(id, clientAddr(r))
	return b
}

// ready reports whether every rendition has its codecs and at least one
// segment; until then players get 404 and retry.
func ready(v view) bool {
	if len(v.renditions) == 0 {
		return false
	}
	for _, r := range v.renditions {
		if r.Codecs == "" || len(v.segments[r.Name]) == 0 {
			return false
		}
	}
	return true
}

func (o *Origin) manifestRenditions(v view) []manifest.Rendition {
	out := make([]manifest.Rendition, 0, len(v.renditions))
	for _, r := range v.renditions {
		out = append(out, manifest.Rendition{
			Name: r.Name, Width: r.Width, Height: r.Height, Codecs: r.Codecs, FrameRate: r.FrameRate,
			Bandwidth: v.peak[r.Name], AverageBandwidth: v.avg[r.Name],
		})
	}
	return out
}

func cacheFor(v view) string {
	if v.ended {
		return cacheEnded
	}
	return cacheLive
}

// readyView snapshots the stream of a manifest request, answering 404 while
// the stream has no segments in every rendition yet.
func (o *Origin) readyView(w http.ResponseWriter, r *http.Request) (view, bool) {
	b := o.broadcastFor(w, r)
	if b == nil {
		return view{}, false
	}
	v := b.snapshot()
	if !ready(v) {
		httpError(w, http.StatusNotFound, "stream is starting; no segments yet")
		return view{}, false
	}
	return v, true
}

func (o *Origin) serveMaster(w http.ResponseWriter, r *http.Request) {
	v, ok := o.readyView(w, r)
	if !ok {
		return
	}
	o.writeManifest(w, v, "application/vnd.apple.mpegurl")(manifest.HLSMultivariant(o.manifestRenditions(v)))
}

func (o *Origin) serveMediaPlaylist(w http.ResponseWriter, r *http.Request) {
	b := o.broadcastFor(w, r)
	if b == nil {
		return
	}
	v := b.snapshot()
	segs, ok := v.segments[r.PathValue("rendition")]
	if !ok {
		httpError(w, http.StatusNotFound, "unknown rendition")
		return
	}
	if len(segs) == 0 {
		httpError(w, http.StatusNotFound, "stream is starting; no segments yet")
		return
	}
	o.writeManifest(w, v, "application/vnd.apple.mpegurl")(manifest.HLSMedia(manifest.Media{
		Segments:       segs,
		TargetDuration: o.p.Transcode.SegmentDuration,
		Ended:          v.ended,
		VOD:            v.ended,
	}))
}

func (o *Origin) serveMPD(w http.ResponseWriter, r *http.Request) {
	v, ok := o.readyView(w, r)
	if !ok {
		return
	}
	o.writeManifest(w, v, "application/dash+xml")(manifest.DASHManifest(manifest.DASH{
		Renditions:        o.manifestRenditions(v),
		Segments:          v.segments,
		Live:              !v.ended,
		AvailabilityStart: v.started,
		Now:               o.now(),
		SegmentDuration:   o.p.Transcode.SegmentDuration,
		TimeShiftBuffer:   o.p.DVRWindow,
		PeriodAnchors:     v.anchors,
	}))
}

// writeManifest returns a function that writes a rendered manifest, or a 500
// with a logged reason when rendering failed.
func (o *Origin) writeManifest(w http.ResponseWriter, v view, ctype string) func([]byte, error) {
	return func(body []byte, err error) {
		if err != nil {
			o.log.Error("render manifest", "stream", v.stream, "err", err)
			httpError(w, http.StatusInternalServerError, "cannot render manifest")
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", cacheFor(v))
		_, _ = w.Write(body)
	}
}

// serveSegment serves init and media segments, from memory inside the DVR
// window and from the store after it. The signed record travels in the
// Canopy-Record header so a client can verify what it got.
func (o *Origin) serveSegment(w http.ResponseWriter, r *http.Request) {
	b := o.broadcastFor(w, r)
	if b == nil {
		return
	}
	rendition, file := r.PathValue("rendition"), r.PathValue("file")
	kind, n, err := proto.ParseFileName(file)
	if err != nil {
		httpError(w, http.StatusNotFound, "not a segment name")
		return
	}
	e, ok := b.lookup(rendition, kind, n)
	if !ok {
		httpError(w, http.StatusNotFound, "no such segment")
		return
	}
	data := e.data
	if data == nil {
		data, err = o.store.Get(e.rec.Stream, e.rec.Broadcast, rendition, file)
		if errors.Is(err, ErrNotFound) {
			httpError(w, http.StatusNotFound, "segment no longer archived")
			return
		}
		if err != nil {
			o.log.Error("read archived segment", "stream", e.rec.Stream, "file", file, "err", err)
			httpError(w, http.StatusInternalServerError, "cannot read segment")
			return
		}
	}
	rec, err := json.Marshal(&e.rec)
	if err == nil {
		w.Header().Set("Canopy-Record", string(rec))
	}
	ctype := "video/iso.segment"
	if kind == proto.KindInit {
		ctype = "video/mp4"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", cacheImmutable)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// maxRecords bounds one records.json response.
const maxRecords = 1000

// serveRecords lists signed records (inits first, then media from ?since=).
func (o *Origin) serveRecords(w http.ResponseWriter, r *http.Request) {
	b := o.broadcastFor(w, r)
	if b == nil {
		return
	}
	var since uint64
	if s := r.URL.Query().Get("since"); s != "" {
		var err error
		if since, err = strconv.ParseUint(s, 10, 64); err != nil {
			httpError(w, http.StatusBadRequest, "since must be a segment sequence number")
			return
		}
	}
	limit := maxRecords
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			httpError(w, http.StatusBadRequest, "limit must be a positive number")
			return
		}
		limit = min(n, maxRecords)
	}
	recs := b.records(r.PathValue("rendition"), since, limit)
	if recs == nil {
		recs = []proto.Segment{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheLive)
	_ = json.NewEncoder(w).Encode(recs)
}
