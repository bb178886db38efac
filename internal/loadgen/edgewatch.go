package loadgen

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// EdgeLag is how late one page server lists new segments of the played
// rendition, compared with the reference server (the origin).
type EdgeLag struct {
	Page     string        `json:"page"`
	Segments int           `json:"segments"` // segments both listed
	P50      time.Duration `json:"lag_p50_ns"`
	P95      time.Duration `json:"lag_p95_ns"`
	Max      time.Duration `json:"lag_max_ns"`
	// Listed is, for the reference server, the delay from a segment's end
	// (program date-time + duration) to its first listing.
	ListedP50 time.Duration `json:"listed_p50_ns,omitempty"`
	ListedP95 time.Duration `json:"listed_p95_ns,omitempty"`
}

// EdgeWatch polls the media playlist of the lowest-bandwidth rendition on
// several page servers and records when each first lists each segment.
type EdgeWatch struct {
	c     *http.Client
	pages []string
	every time.Duration

	mu    sync.Mutex
	first []map[uint64]time.Time // per page: seq -> first seen
	ends  map[uint64]time.Time   // seq -> program date-time + duration
	// after: the reference's newest segment at its first poll; only
	// later ones count (the others were listed before watching began).
	after  uint64
	polled bool
}

// NewEdgeWatch watches stream on pages; pages[0] is the reference.
func NewEdgeWatch(c *http.Client, pages []string, every time.Duration) *EdgeWatch {
	w := &EdgeWatch{c: c, pages: pages, every: every, ends: map[uint64]time.Time{}}
	for range pages {
		w.first = append(w.first, map[uint64]time.Time{})
	}
	return w
}

// Run polls until ctx ends.
func (w *EdgeWatch) Run(ctx context.Context, stream string) {
	var wg sync.WaitGroup
	for i, p := range w.pages {
		wg.Go(func() { w.poll(ctx, i, strings.TrimRight(p, "/"), stream) })
	}
	wg.Wait()
}

func (w *EdgeWatch) poll(ctx context.Context, i int, base, stream string) {
	v := &Viewer{sh: &Shared{http: w.c}}
	media := ""
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if media == "" {
			master, err := url.Parse(base + "/live/" + url.PathEscape(stream) + "/master.m3u8")
			if err != nil {
				return
			}
			body, _, err := v.get(ctx, master.String())
			if err != nil {
				continue
			}
			vs, err := parseMaster(body)
			if err != nil {
				continue
			}
			pick := vs[0]
			for _, vr := range vs {
				if vr.Bandwidth < pick.Bandwidth {
					pick = vr
				}
			}
			u, err := master.Parse(pick.URI)
			if err != nil {
				return
			}
			media = u.String()
		}
		body, _, err := v.get(ctx, media)
		if err != nil {
			continue
		}
		pl, err := parseMedia(body)
		if err != nil {
			continue
		}
		now := time.Now()
		w.mu.Lock()
		if i == 0 && !w.polled && len(pl.Segments) > 0 {
			w.after, w.polled = pl.Segments[len(pl.Segments)-1].Seq, true
		}
		for _, s := range pl.Segments {
			if _, ok := w.first[i][s.Seq]; !ok {
				w.first[i][s.Seq] = now
			}
			if i == 0 && !s.PDT.IsZero() {
				w.ends[s.Seq] = s.PDT.Add(s.Duration)
			}
		}
		w.mu.Unlock()
	}
}

// Lags compares every page with the reference, over segments the
// reference first listed while watching (not those already there).
func (w *EdgeWatch) Lags() []EdgeLag {
	w.mu.Lock()
	defer w.mu.Unlock()
	ref := w.first[0]
	var out []EdgeLag
	for i, p := range w.pages {
		e := EdgeLag{Page: p}
		var lags, listed []time.Duration
		for seq, t0 := range ref {
			if !w.polled || seq <= w.after {
				continue
			}
			if i == 0 {
				if end, ok := w.ends[seq]; ok {
					listed = append(listed, t0.Sub(end))
				}
			}
			if t, ok := w.first[i][seq]; ok {
				lags = append(lags, t.Sub(t0))
			}
		}
		e.Segments = len(lags)
		e.P50, e.P95, e.Max = Percentile(lags, 0.5), Percentile(lags, 0.95), Percentile(lags, 1)
		e.ListedP50, e.ListedP95 = Percentile(listed, 0.5), Percentile(listed, 0.95)
		out = append(out, e)
	}
	return out
}
