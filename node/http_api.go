package node

import (
	"encoding/json"
	"net/http"
)

// streamJSON is one entry of GET /api/v1/streams, the shape the origin
// serves (viewers are counted only at the origin).
type streamJSON struct {
	ID         string          `json:"id"`
	Live       bool            `json:"live"`
	Ended      bool            `json:"ended"`
	Broadcast  string          `json:"broadcast,omitempty"`
	Renditions []renditionJSON `json:"renditions"`
	Viewers    int             `json:"viewers"`
	HLS        string          `json:"hls,omitempty"`
	DASH       string          `json:"dash,omitempty"`
}

type renditionJSON struct {
	Name      string `json:"name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bandwidth int    `json:"bandwidth"`
	Codecs    string `json:"codecs,omitempty"`
}

// serveStreams lists the streams this node carries, so that the web app
// served by a node finds the broadcast it plays.
func (n *Node) serveStreams(w http.ResponseWriter, _ *http.Request) {
	out := []streamJSON{}
	for _, s := range n.streamList() {
		info := s.info()
		if info.Broadcast == "" {
			continue
		}
		j := streamJSON{ID: info.Stream, Live: !info.Ended, Ended: info.Ended, Broadcast: info.Broadcast,
			Renditions: []renditionJSON{},
			HLS:        "/live/" + info.Stream + "/master.m3u8", DASH: "/live/" + info.Stream + "/manifest.mpd"}
		for _, r := range masterRenditions(info) {
			j.Renditions = append(j.Renditions, renditionJSON{Name: r.Name, Width: r.Width, Height: r.Height,
				Bandwidth: r.Bandwidth, Codecs: r.Codecs})
		}
		out = append(out, j)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheLive)
	_ = json.NewEncoder(w).Encode(out)
}
