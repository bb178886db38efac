package chatapi

import (
	"bufio"
	"encoding/json"
	"net/http"
	"time"

	"github.com/canopylive/canopy/node/comments"
)

// events serves a stream's Server-Sent Events feed. A reconnecting
// EventSource sends Last-Event-ID (the cursor of the last comment it got);
// the feed first replays the comments after it (at most MaxHistory; a
// client that missed more pages with GET …/comments?since=), then the
// current reaction counts, viewer count and showing announcements, then
// live events. The subscriber is registered before the replay, so nothing
// falls between the two; a comment in both is sent twice and the page
// keeps one (IDs).
func (s *Server) events(w http.ResponseWriter, r *http.Request, stream string) {
	var after *comments.Cursor
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("since")
	}
	if last != "" {
		cur, err := parseCursor(last)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		after = &cur
	}
	sub, ok := s.p.Hub.subscribe(stream)
	if !ok {
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "too many open event feeds on this server; try again later or another node")
		return
	}
	defer s.p.Hub.unsubscribe(sub)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a reverse proxy must not buffer the feed
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 4096)
	send := func() bool {
		// The server's write timeout would end a long-lived feed; each
		// write gets its own deadline instead.
		_ = rc.SetWriteDeadline(time.Now().Add(2 * keepAlive))
		return bw.Flush() == nil && rc.Flush() == nil
	}
	bw.WriteString("retry: 2000\n\n")
	if after != nil {
		missed, err := s.p.Store.Range(stream, *after, MaxHistory)
		if err != nil {
			s.log.Warn("replaying comments", "stream", stream, "err", err)
		}
		for _, c := range missed {
			j := toJSON(c)
			writeEvent(bw, "comment", j.Cursor, j)
		}
	}
	s.writeState(bw, stream)
	if !send() {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case e := <-sub.ch:
			writeRaw(bw, e)
			for n := len(sub.ch); n > 0; n-- { // batch what is queued
				writeRaw(bw, <-sub.ch)
			}
		case <-tick.C:
			bw.WriteString(": keep-alive\n\n")
		case <-sub.gone:
			return // fell behind: the client reconnects and is replayed
		case <-r.Context().Done():
			return
		}
		if !send() {
			return
		}
	}
}

// writeState writes the stream's current reaction counts, viewer count and
// showing announcements.
func (s *Server) writeState(bw *bufio.Writer, stream string) {
	t, ok := s.p.Hub.current(stream)
	if !ok {
		t, _ = s.p.Sync.Totals(stream)
	}
	counts := map[string]uint64{}
	for _, k := range comments.ReactionKinds() {
		counts[k] = t.Reactions[k]
	}
	writeEvent(bw, "reactions", "", reactionsJSON{Counts: counts})
	writeEvent(bw, "viewers", "", viewersJSON{Count: max(t.Viewers, 1)}) // at least this viewer
	now := s.p.Now()
	list, err := s.p.Store.Announcements(stream, now)
	if err != nil {
		s.log.Warn("reading announcements", "stream", stream, "err", err)
	}
	for _, a := range list {
		writeEvent(bw, "announcement", "", announcementOf(a, now))
	}
}

func writeEvent(bw *bufio.Writer, name, id string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	writeRaw(bw, event{name: name, id: id, data: data})
}

// writeRaw writes one event. JSON has no raw newline, so data is one line.
func writeRaw(bw *bufio.Writer, e event) {
	bw.WriteString("event: " + e.name + "\n")
	if e.id != "" {
		bw.WriteString("id: " + e.id + "\n")
	}
	bw.WriteString("data: ")
	bw.Write(e.data)
	bw.WriteString("\n\n")
}
