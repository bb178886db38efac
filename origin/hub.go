package origin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// hub owns the streams: which broadcast is current, who publishes it, and
// the grace timer between a publisher leaving and the broadcast ending.
type hub struct {
	o       *Origin
	mu      sync.Mutex
	streams map[string]*slot
	closed  bool
}

type slot struct {
	current   *broadcast
	publisher *session
	grace     *time.Timer
}

func newHub(o *Origin) *hub {
	return &hub{o: o, streams: map[string]*slot{}}
}

func (h *hub) slot(id string) *slot {
	sl := h.streams[id]
	if sl == nil {
		sl = &slot{}
		h.streams[id] = sl
	}
	return sl
}

// restore installs archived broadcasts, all ended, at start-up.
func (h *hub) restore(bs []*broadcast) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range bs {
		h.slot(b.stream).current = b
	}
}

// acquire makes s's connection the publisher of stream id. A broadcast still
// inside its grace period continues; otherwise a new one starts.
func (h *hub) acquire(id string, log *slog.Logger) (*session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	sl := h.slot(id)
	if sl.publisher != nil {
		return nil, ErrAlreadyLive
	}
	b := sl.current
	if sl.grace != nil && b != nil && !b.ended {
		sl.grace.Stop()
		sl.grace = nil
		log.Info("publisher reconnected within the grace period; continuing the broadcast", "broadcast", b.id)
	} else {
		b = newBroadcast(id, newBroadcastID(h.o.now()), h.o.p.DVRWindow)
		sl.current = b
		log.Info("new broadcast", "broadcast", b.id)
	}
	b.mu.Lock()
	b.live = true
	b.mu.Unlock()
	s := newSession(h.o, id, b, log.With("broadcast", b.id))
	sl.publisher = s
	h.o.metrics.live.Set(float64(h.liveLocked()))
	return s, nil
}

// fixRenditions sets the broadcast's renditions at the first session, and
// starts a new broadcast when a reconnecting publisher's source no longer
// gives the same ladder (players cannot follow a changed ladder).
func (h *hub) fixRenditions(id string, s *session, infos []RenditionInfo) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	sl := h.slot(id)
	if sl.publisher != s {
		return ErrClosed
	}
	b := s.b
	b.mu.Lock()
	same := len(b.renditions) == 0 || sameNames(b.renditions, infos)
	if len(b.renditions) == 0 {
		b.renditions = infos
	}
	b.mu.Unlock()
	if same {
		return nil
	}
	s.log.Info("source changed its ladder; ending the broadcast and starting a new one")
	h.endLocked(sl, b)
	nb := newBroadcast(id, newBroadcastID(h.o.now()), h.o.p.DVRWindow)
	nb.renditions, nb.live = infos, true
	sl.current, s.b = nb, nb
	return nil
}

func sameNames(a, b []RenditionInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// release is called when s's connection ends. The broadcast waits for the
// grace period before it ends.
func (h *hub) release(id string, s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sl := h.slot(id)
	if sl.publisher != s {
		return
	}
	sl.publisher = nil
	b := sl.current
	b.mu.Lock()
	b.live = false
	b.mu.Unlock()
	h.o.metrics.live.Set(float64(h.liveLocked()))
	if h.closed || h.o.p.ReconnectGrace == 0 {
		h.endLocked(sl, b)
		return
	}
	sl.grace = time.AfterFunc(h.o.p.ReconnectGrace, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if sl.current == b && sl.publisher == nil && !h.closed {
			s.log.Info("grace period over; broadcast ended")
			h.endLocked(sl, b)
		}
	})
}

func (h *hub) endLocked(sl *slot, b *broadcast) {
	if sl.grace != nil {
		sl.grace.Stop()
		sl.grace = nil
	}
	b.mu.Lock()
	b.ended, b.live = true, false
	hasSegs := b.hasSegs
	b.mu.Unlock()
	if hasSegs {
		if err := h.o.store.PutMeta(b.meta()); err != nil {
			h.o.log.Error("archive broadcast metadata", "stream", b.stream, "err", err)
		}
		if h.o.p.Feed != nil {
			h.o.p.Feed.Ended(h.o.describe(b))
		}
	}
}

func (h *hub) liveLocked() int {
	n := 0
	for _, sl := range h.streams {
		if sl.publisher != nil {
			n++
		}
	}
	return n
}

// current returns the newest broadcast of a stream, or nil.
func (h *hub) current(id string) *broadcast {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sl := h.streams[id]; sl != nil {
		return sl.current
	}
	return nil
}

// ids lists every stream with a broadcast or a configured key, sorted.
func (h *hub) ids(configured []string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for _, id := range configured {
		seen[id] = true
	}
	for id := range h.streams {
		seen[id] = true
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// close stops grace timers; sessions are closed by their connections.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, sl := range h.streams {
		if sl.grace != nil {
			sl.grace.Stop()
			sl.grace = nil
		}
	}
}

// newBroadcastID names a broadcast by its start time, so names sort by age.
func newBroadcastID(now time.Time) string {
	var r [3]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%s-%s", now.UTC().Format("20060102T150405Z"), hex.EncodeToString(r[:]))
}
