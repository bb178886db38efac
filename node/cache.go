package node

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// entry is one cached, verified segment with its encoded wire frame, which
// every child shares.
type entry struct {
	rec   proto.Segment
	data  []byte
	frame []byte
	// Response header values, made once: the record as JSON (Canopy-Record)
	// and the body length (Content-Length).
	hdr, length []string
}

// rendCache holds one rendition's init segments by discontinuity and media
// segments by sequence.
type rendCache struct {
	inits map[uint32]*entry
	media map[uint64]*entry
}

// cache is one stream's current broadcast. Its owner (stream) guards it.
type cache struct {
	window  time.Duration
	info    StreamInfo // Broadcast == "" until the first StreamInfo
	rends   map[string]*rendCache
	started time.Time       // earliest program date-time seen in this broadcast
	newest  time.Time       // latest program date-time seen
	evicted []proto.Segment // dropped since the owner last collected them
	// gen counts changes; a playlist rendered at one generation is served
	// again from rendered until the next change.
	gen      uint64
	rendered map[string]renderedManifest
}

// renderedManifest is a playlist body and the cache generation it shows.
type renderedManifest struct {
	gen          uint64
	body         []byte
	cacheControl string
}

func newCache(window time.Duration) *cache {
	return &cache{window: window, rends: map[string]*rendCache{}}
}

// setInfo records a StreamInfo; a new broadcast empties the cache. It
// reports whether anything changed.
func (c *cache) setInfo(i StreamInfo) bool {
	if c.info.equal(i) {
		return false
	}
	c.gen++
	if i.Broadcast != c.info.Broadcast {
		c.rends = map[string]*rendCache{}
		c.started, c.newest = time.Time{}, time.Time{}
	}
	c.info = i
	return true
}

func (c *cache) rend(name string) *rendCache {
	r := c.rends[name]
	if r == nil {
		r = &rendCache{inits: map[uint32]*entry{}, media: map[uint64]*entry{}}
		c.rends[name] = r
	}
	return r
}

// lookup returns a cached segment.
func (c *cache) lookup(rendition string, kind proto.SegmentKind, n uint64) (*entry, bool) {
	r := c.rends[rendition]
	if r == nil {
		return nil, false
	}
	var e *entry
	switch kind {
	case proto.KindInit:
		if n > uint64(^uint32(0)) {
			return nil, false
		}
		e = r.inits[uint32(n)]
	case proto.KindMedia:
		e = r.media[n]
	}
	return e, e != nil
}

// add stores a verified segment of the current broadcast. It reports false
// when the same segment is already cached (nothing to forward).
func (c *cache) add(rec proto.Segment, data []byte) (*entry, bool) {
	if old, ok := c.lookup(rec.Rendition, rec.Kind, rec.Sequence); ok && bytes.Equal(old.rec.SHA256[:], rec.SHA256[:]) {
		return old, false
	}
	c.gen++
	e := &entry{rec: rec, data: data, frame: encode(&treepb.TreeMessage{Msg: &treepb.TreeMessage_Segment{
		Segment: &treepb.Segment{Record: rec.ToPB(), Data: data},
	}})}
	if b, err := json.Marshal(&rec); err == nil {
		e.hdr = []string{string(b)}
	}
	e.length = []string{strconv.Itoa(len(data))}
	r := c.rend(rec.Rendition)
	if rec.Kind == proto.KindInit {
		r.inits[rec.Discontinuity] = e
		return e, true
	}
	r.media[rec.Sequence] = e
	pdt := rec.ProgramDateTime
	if c.started.IsZero() || pdt.Before(c.started) {
		c.started = pdt
	}
	if pdt.After(c.newest) {
		c.newest = pdt
		c.evict()
	}
	return e, true
}

// evict drops media segments older than the window behind the newest one,
// and init segments no remaining media segment needs (the newest is kept).
func (c *cache) evict() {
	limit := c.newest.Add(-c.window)
	for _, r := range c.rends {
		minDisc := ^uint32(0)
		for seq, e := range r.media {
			if e.rec.ProgramDateTime.Before(limit) {
				delete(r.media, seq)
				c.evicted = append(c.evicted, e.rec)
				continue
			}
			minDisc = min(minDisc, e.rec.Discontinuity)
		}
		if len(r.media) == 0 {
			continue
		}
		for d, e := range r.inits {
			if d < minDisc {
				delete(r.inits, d)
				c.evicted = append(c.evicted, e.rec)
			}
		}
	}
}

// sequences returns a rendition's cached media sequence numbers, ascending.
func (c *cache) sequences(rendition string) []uint64 {
	r := c.rends[rendition]
	if r == nil {
		return nil
	}
	out := make([]uint64, 0, len(r.media))
	for seq := range r.media {
		out = append(out, seq)
	}
	slices.Sort(out)
	return out
}

// inits returns every cached init segment, by rendition then discontinuity.
func (c *cache) inits() []*entry {
	var out []*entry
	for _, name := range c.names() {
		r := c.rends[name]
		ds := make([]uint32, 0, len(r.inits))
		for d := range r.inits {
			ds = append(ds, d)
		}
		slices.Sort(ds)
		for _, d := range ds {
			out = append(out, r.inits[d])
		}
	}
	return out
}

// names returns the cached renditions, sorted.
func (c *cache) names() []string {
	out := make([]string, 0, len(c.rends))
	for name := range c.rends {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// latest is the highest cached media sequence of any rendition.
func (c *cache) latest() (uint64, bool) {
	var top uint64
	found := false
	for _, r := range c.rends {
		for seq := range r.media {
			if !found || seq > top {
				top, found = seq, true
			}
		}
	}
	return top, found
}

// backfill returns the frames a new child gets: the stream info, every init
// segment, then media segments with sequence >= from (the latest column when
// liveEdge), in sequence order.
func (c *cache) backfill(from uint64, liveEdge bool) [][]byte {
	if c.info.Broadcast == "" {
		return nil
	}
	out := [][]byte{infoFrame(c.info)}
	for _, e := range c.inits() {
		out = append(out, e.frame)
	}
	if liveEdge {
		top, ok := c.latest()
		if !ok {
			return out
		}
		from = top
	}
	var media []*entry
	for _, r := range c.rends {
		for seq, e := range r.media {
			if seq >= from {
				media = append(media, e)
			}
		}
	}
	slices.SortFunc(media, func(a, b *entry) int {
		if a.rec.Sequence != b.rec.Sequence {
			if a.rec.Sequence < b.rec.Sequence {
				return -1
			}
			return 1
		}
		return bytes.Compare([]byte(a.rec.Rendition), []byte(b.rec.Rendition))
	})
	for _, e := range media {
		out = append(out, e.frame)
	}
	return out
}

// resume is the sequence a node asks a new parent for so that it misses
// nothing: per rendition, the first sequence missing after its first cached
// one; the lowest of those over the ladder, or 0 when a rendition has none.
func (c *cache) resume() (from uint64, liveEdge bool) {
	if c.info.Broadcast == "" {
		return 0, true
	}
	names := make([]string, 0, len(c.info.Renditions))
	for _, r := range c.info.Renditions {
		names = append(names, r.Name)
	}
	if len(names) == 0 {
		names = c.names()
	}
	first := true
	for _, name := range names {
		seqs := c.sequences(name)
		if len(seqs) == 0 {
			return 0, false
		}
		next := seqs[0] + 1
		for _, seq := range seqs[1:] {
			if seq != next {
				break
			}
			next++
		}
		if first || next < from {
			from, first = next, false
		}
	}
	return from, false
}
