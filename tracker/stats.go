package tracker

import (
	"encoding/json"
	"net/http"
)

// StatsHandler serves the trees of all streams as JSON:
// {"streams":[Snapshot...]}. It is mounted at GET /tracker/stats.
func (t *Tracker) StatsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(struct {
			Streams []Snapshot `json:"streams"`
		}{t.Snapshots()})
	})
}
