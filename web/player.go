package web

import (
	"encoding/json"
	"net/http"
)

// playerInfo is GET /api/v1/player: what the player needs before it starts.
type playerInfo struct {
	// PublicKey is the origin's Ed25519 key (std base64), "" if unknown.
	PublicKey string `json:"public_key"`
	// Trackers are WebSocket tracker URLs; empty means ws(s)://<host>/tracker.
	Trackers []string `json:"trackers"`
}

func (h *Handler) servePlayerInfo(w http.ResponseWriter, r *http.Request) {
	info := playerInfo{Trackers: []string{}}
	if h.publicKey != nil {
		info.PublicKey = h.publicKey()
	}
	if h.trackers != nil {
		if t := h.trackers(r); len(t) > 0 {
			info.Trackers = t
		}
	}
	b, err := json.Marshal(info)
	if err != nil {
		h.log.Error("encode player info", "err", err)
		textError(w, http.StatusInternalServerError, "cannot encode player info")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(b, '\n'))
}
