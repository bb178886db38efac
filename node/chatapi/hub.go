package chatapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/node/comments"
	"github.com/canopylive/canopy/node/commentsync"
)

// Hub defaults.
const (
	DefaultQueueSize      = 256
	DefaultMaxSubscribers = 10000
)

// HubParams configures a Hub.
type HubParams struct {
	// QueueSize bounds each subscriber's pending events; a subscriber whose
	// queue is full is disconnected (it reconnects and is replayed what it
	// missed). DefaultQueueSize when zero.
	QueueSize int
	// MaxSubscribers bounds the open event feeds of this node, all streams
	// together; DefaultMaxSubscribers when zero.
	MaxSubscribers int
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	Now            func() time.Time
}

// event is one Server-Sent Event.
type event struct {
	name string
	id   string // the comment's cursor for comment events, else empty
	data []byte
}

// subscriber is one open event feed.
type subscriber struct {
	stream string
	ch     chan event
	gone   chan struct{} // closed when the hub drops it for falling behind
	once   sync.Once
}

func (s *subscriber) drop() { s.once.Do(func() { close(s.gone) }) }

// Hub fans a node's conversation events out to its event-feed subscribers.
// Its Comment, Moderation and Tally methods are commentsync's Delivered,
// Moderated and Tallied callbacks; Viewers is its Viewers.
type Hub struct {
	p   HubParams
	log *slog.Logger
	m   *metrics

	mu     sync.Mutex
	subs   map[string]map[*subscriber]struct{}
	n      int
	totals map[string]commentsync.Totals
}

// NewHub returns a Hub.
func NewHub(p HubParams) (*Hub, error) {
	if p.QueueSize < 0 || p.MaxSubscribers < 0 {
		return nil, fmt.Errorf("%w: negative QueueSize or MaxSubscribers", ErrParams)
	}
	if p.QueueSize == 0 {
		p.QueueSize = DefaultQueueSize
	}
	if p.MaxSubscribers == 0 {
		p.MaxSubscribers = DefaultMaxSubscribers
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	return &Hub{p: p, log: p.Logger.With("component", "chatapi"), m: m,
		subs: map[string]map[*subscriber]struct{}{}, totals: map[string]commentsync.Totals{}}, nil
}

// Comment announces a newly stored comment.
func (h *Hub) Comment(c comments.Comment) {
	j := toJSON(c)
	h.broadcast(c.Stream, "comment", j.Cursor, j)
}

// Moderation announces a newly applied moderation action.
func (h *Hub) Moderation(sa comments.SignedAction) {
	switch sa.Kind {
	case comments.ActDelete:
		h.broadcast(sa.Stream, "delete", "", map[string]string{"id": sa.CommentID})
	case comments.ActBan:
		h.broadcast(sa.Stream, "ban", "", map[string]string{"author": sa.Author})
	case comments.ActAnnounce:
		if a := announcementOf(sa, h.p.Now()); a.RemainingMS > 0 {
			h.broadcast(sa.Stream, "announcement", "", a)
		}
	}
}

// Tally announces a stream's new totals: the reaction counts and the
// viewer count, each when it changed.
func (h *Hub) Tally(stream string, t commentsync.Totals) {
	h.mu.Lock()
	prev, had := h.totals[stream]
	h.totals[stream] = t
	h.mu.Unlock()
	if !had || !equalCounts(prev.Reactions, t.Reactions) {
		h.broadcast(stream, "reactions", "", reactionsJSON{Counts: t.Reactions})
	}
	if !had || prev.Viewers != t.Viewers {
		h.broadcast(stream, "viewers", "", viewersJSON{Count: t.Viewers})
	}
}

// Viewers returns how many event feeds of stream this node has open.
func (h *Hub) Viewers(stream string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[stream])
}

type reactionsJSON struct {
	Counts map[string]uint64 `json:"counts"`
}

type viewersJSON struct {
	Count int `json:"count"`
}

func equalCounts(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (h *Hub) broadcast(stream, name, id string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	e := event{name: name, id: id, data: data}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[stream] {
		select {
		case s.ch <- e:
			h.m.sent.Inc()
		default:
			// Never block the producer (commentsync's validator): drop
			// the subscriber, which reconnects and is replayed.
			delete(h.subs[stream], s)
			h.n--
			s.drop()
			h.m.slow.Inc()
		}
	}
}

// subscribe opens a feed of stream, or fails when the node has
// MaxSubscribers feeds open.
func (h *Hub) subscribe(stream string) (*subscriber, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n >= h.p.MaxSubscribers {
		h.m.refused.Inc()
		return nil, false
	}
	s := &subscriber{stream: stream, ch: make(chan event, h.p.QueueSize), gone: make(chan struct{})}
	if h.subs[stream] == nil {
		h.subs[stream] = map[*subscriber]struct{}{}
	}
	h.subs[stream][s] = struct{}{}
	h.n++
	h.m.open.Set(float64(h.n))
	return s, true
}

func (h *Hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s.stream][s]; ok {
		delete(h.subs[s.stream], s)
		h.n--
	}
	if len(h.subs[s.stream]) == 0 {
		delete(h.subs, s.stream)
	}
	h.m.open.Set(float64(h.n))
}

// current returns the stream's last totals, if any arrived.
func (h *Hub) current(stream string) (commentsync.Totals, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.totals[stream]
	return t, ok
}
