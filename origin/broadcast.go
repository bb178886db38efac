package origin

import (
	"sort"
	"sync"
	"time"

	"github.com/canopylive/canopy/proto"
)

// entry is one sealed segment. data is nil once the segment has left the DVR
// window; it is then read from the store.
type entry struct {
	rec  proto.Segment
	data []byte
}

// broadcast is one continuous broadcast of a stream: one or more publisher
// sessions joined by discontinuities. It owns its segment index; every field
// is guarded by mu.
type broadcast struct {
	mu         sync.Mutex
	stream     string
	id         string
	renditions []RenditionInfo
	live       bool // a publisher is connected
	ended      bool
	media      map[string][]entry // per rendition, ascending sequence
	inits      map[string]map[uint32]entry
	nextSeq    uint64
	nextDisc   uint32
	hasSegs    bool
	started    time.Time // program date-time of the first segment
	window     time.Duration
	bytes      map[string]int64 // per rendition, for average bandwidth
	seconds    map[string]float64
	// peak is the BANDWIDTH declared for each rendition: the larger of its
	// configured bit rate and its first segment's, rounded up to 1 kbit/s,
	// and then fixed for the whole broadcast. p2p-media-loader keys a
	// rendition's swarm by its variant attributes, BANDWIDTH among them,
	// so a value that moved with the measured peak would split viewers
	// who loaded the playlist at different times into different swarms.
	peak    map[string]int
	anchors map[uint32]proto.Segment // first media record of each discontinuity (first rendition)
}

func newBroadcast(stream, id string, window time.Duration) *broadcast {
	return &broadcast{
		stream: stream, id: id, window: window,
		media:   map[string][]entry{},
		inits:   map[string]map[uint32]entry{},
		bytes:   map[string]int64{},
		seconds: map[string]float64{},
		peak:    map[string]int{},
		anchors: map[uint32]proto.Segment{},
	}
}

// newDiscontinuity returns the discontinuity number for the next epoch's
// segments: 0 for the first, then one more than the last used, so that
// EXT-X-DISCONTINUITY-SEQUENCE counts exactly the seams.
func (b *broadcast) newDiscontinuity() (disc uint32, seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hasSegs {
		b.nextDisc++
	}
	b.hasSegs = true
	return b.nextDisc, b.nextSeq
}

// addInit stores a sealed init segment and what it says about its
// rendition.
func (b *broadcast) addInit(rec proto.Segment, data []byte, codecs string, width, height int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.renditions {
		if r := &b.renditions[i]; r.Name == rec.Rendition {
			r.Codecs = codecs
			if width > 0 && height > 0 {
				r.Width, r.Height = width, height
			}
		}
	}
	m := b.inits[rec.Rendition]
	if m == nil {
		m = map[uint32]entry{}
		b.inits[rec.Rendition] = m
	}
	m[uint32(rec.Sequence)] = entry{rec: rec, data: data}
}

// addColumn appends one segment of every rendition (same sequence number)
// and lets segments that left the DVR window drop their bytes.
func (b *broadcast) addColumn(recs []proto.Segment, data [][]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, rec := range recs {
		if b.started.IsZero() {
			b.started = rec.ProgramDateTime
		}
		b.media[rec.Rendition] = append(b.media[rec.Rendition], entry{rec: rec, data: data[i]})
		b.account(rec)
	}
	if len(recs) > 0 {
		if _, ok := b.anchors[recs[0].Discontinuity]; !ok {
			b.anchors[recs[0].Discontinuity] = recs[0]
		}
		b.nextSeq = recs[0].Sequence + 1
		b.evict(recs[0].ProgramDateTime)
	}
}

func (b *broadcast) account(rec proto.Segment) {
	secs := rec.Duration.Seconds()
	if secs <= 0 {
		return
	}
	b.bytes[rec.Rendition] += int64(rec.Length)
	b.seconds[rec.Rendition] += secs
	if _, ok := b.peak[rec.Rendition]; ok {
		return
	}
	// The first media segment fixes the rendition's declared bandwidth.
	bps := int(float64(rec.Length*8) / secs)
	for _, r := range b.renditions {
		if r.Name == rec.Rendition {
			bps = max(bps, r.Bitrate)
		}
	}
	b.peak[rec.Rendition] = (bps + 999) / 1000 * 1000
}

// evict drops the bytes (not the records) of segments older than the window.
func (b *broadcast) evict(now time.Time) {
	cut := now.Add(-b.window)
	for name, list := range b.media {
		for i := range list {
			if !list[i].rec.ProgramDateTime.Before(cut) {
				break
			}
			list[i].data = nil
		}
		b.media[name] = list
	}
}

// bandwidth returns the declared (see broadcast.peak) and the average bits/s
// of a rendition so far.
func (b *broadcast) bandwidth(name string) (peak, avg int) {
	if s := b.seconds[name]; s > 0 {
		avg = int(float64(b.bytes[name]*8) / s)
	}
	return b.peak[name], avg
}

// loadArchived rebuilds an ended broadcast from the store.
func loadArchived(a Archived, window time.Duration) *broadcast {
	b := newBroadcast(a.Meta.Stream, a.Meta.Broadcast, window)
	b.renditions = a.Meta.Renditions
	b.ended = true
	for _, rec := range a.Records {
		switch rec.Kind {
		case proto.KindInit:
			m := b.inits[rec.Rendition]
			if m == nil {
				m = map[uint32]entry{}
				b.inits[rec.Rendition] = m
			}
			m[uint32(rec.Sequence)] = entry{rec: rec}
		case proto.KindMedia:
			if b.started.IsZero() {
				b.started = rec.ProgramDateTime
			}
			if _, ok := b.anchors[rec.Discontinuity]; !ok && len(b.renditions) > 0 && rec.Rendition == b.renditions[0].Name {
				b.anchors[rec.Discontinuity] = rec
			}
			b.media[rec.Rendition] = append(b.media[rec.Rendition], entry{rec: rec})
			b.account(rec)
			b.hasSegs = true
			if rec.Sequence >= b.nextSeq {
				b.nextSeq = rec.Sequence + 1
			}
			if rec.Discontinuity > b.nextDisc {
				b.nextDisc = rec.Discontinuity
			}
		}
	}
	return b
}

// view is a consistent copy of what the HTTP layer needs from a broadcast.
type view struct {
	stream, id string
	renditions []RenditionInfo
	live       bool
	ended      bool
	started    time.Time
	segments   map[string][]proto.Segment // the playlist window (all when ended)
	peak, avg  map[string]int
	anchors    map[uint32]proto.Segment
}

// snapshot copies the current playlist window: the DVR window while live,
// everything once ended.
func (b *broadcast) snapshot() view {
	b.mu.Lock()
	defer b.mu.Unlock()
	v := view{
		stream: b.stream, id: b.id, renditions: append([]RenditionInfo(nil), b.renditions...),
		live: b.live, ended: b.ended, started: b.started,
		segments: map[string][]proto.Segment{}, peak: map[string]int{}, avg: map[string]int{},
		anchors: make(map[uint32]proto.Segment, len(b.anchors)),
	}
	for d, a := range b.anchors {
		v.anchors[d] = a
	}
	for _, r := range b.renditions {
		list := b.media[r.Name]
		start := 0
		if !b.ended && len(list) > 0 {
			cut := list[len(list)-1].rec.ProgramDateTime.Add(-b.window)
			for start < len(list)-1 && list[start].rec.ProgramDateTime.Before(cut) {
				start++
			}
		}
		recs := make([]proto.Segment, 0, len(list)-start)
		for _, e := range list[start:] {
			recs = append(recs, e.rec)
		}
		v.segments[r.Name] = recs
		v.peak[r.Name], v.avg[r.Name] = b.bandwidth(r.Name)
	}
	return v
}

// lookup finds a segment of rendition by file name.
func (b *broadcast) lookup(rendition string, kind proto.SegmentKind, n uint64) (entry, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if kind == proto.KindInit {
		e, ok := b.inits[rendition][uint32(n)]
		return e, ok && uint64(uint32(n)) == n
	}
	list := b.media[rendition]
	if len(list) == 0 || n < list[0].rec.Sequence {
		return entry{}, false
	}
	i := int(n - list[0].rec.Sequence)
	if i >= len(list) || list[i].rec.Sequence != n {
		return entry{}, false
	}
	return list[i], true
}

// records returns the records of a rendition (init and media) with sequence
// number at least since, for clients that verify segments they got from
// peers.
func (b *broadcast) records(rendition string, since uint64, limit int) []proto.Segment {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []proto.Segment
	for _, e := range b.inits[rendition] {
		out = append(out, e.rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sequence < out[j].Sequence })
	for _, e := range b.media[rendition] {
		if len(out) >= limit {
			break
		}
		if e.rec.Sequence >= since {
			out = append(out, e.rec)
		}
	}
	return out
}

func (b *broadcast) meta() BroadcastMeta {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BroadcastMeta{Stream: b.stream, Broadcast: b.id, Renditions: append([]RenditionInfo(nil), b.renditions...), Ended: b.ended}
}
