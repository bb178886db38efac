package origin

import (
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/canopylive/canopy/proto"
)

// StreamInfo is one entry of GET /api/v1/streams.
type StreamInfo struct {
	ID         string          `json:"id"`
	Live       bool            `json:"live"`
	Ended      bool            `json:"ended"`
	Broadcast  string          `json:"broadcast,omitempty"`
	Renditions []RenditionJSON `json:"renditions"`
	Viewers    int             `json:"viewers"`
	HLS        string          `json:"hls,omitempty"`
	DASH       string          `json:"dash,omitempty"`
}

// RenditionJSON describes a rendition in the stream list.
type RenditionJSON struct {
	Name      string `json:"name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bandwidth int    `json:"bandwidth"`
	Codecs    string `json:"codecs,omitempty"`
}

// OriginInfo is GET /api/v1/origin: the key every segment is signed with,
// and the libp2p identity of the relay tree's root when there is one.
type OriginInfo struct {
	PublicKey       string   `json:"public_key"`
	KeyAlgorithm    string   `json:"key_algorithm"`
	SegmentDuration float64  `json:"segment_duration"`
	PeerID          string   `json:"peer_id,omitempty"`
	Addrs           []string `json:"addrs"`
}

// Streams lists every configured or archived stream.
func (o *Origin) Streams() []StreamInfo {
	configured := make([]string, 0, len(o.p.Streams))
	for _, s := range o.p.Streams {
		configured = append(configured, s.ID)
	}
	var out []StreamInfo
	for _, id := range o.hub.ids(configured) {
		si := StreamInfo{ID: id, Renditions: []RenditionJSON{}, Viewers: o.viewers.count(id)}
		if b := o.hub.current(id); b != nil {
			v := b.snapshot()
			si.Live, si.Ended, si.Broadcast = v.live, v.ended, v.id
			for _, r := range v.renditions {
				si.Renditions = append(si.Renditions, RenditionJSON{Name: r.Name, Width: r.Width, Height: r.Height,
					Bandwidth: max(v.peak[r.Name], r.Bitrate), Codecs: r.Codecs})
			}
			if ready(v) {
				si.HLS, si.DASH = "/live/"+id+"/master.m3u8", "/live/"+id+"/manifest.mpd"
			}
		}
		out = append(out, si)
	}
	return out
}

func (o *Origin) serveStreams(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, o.Streams())
}

func (o *Origin) serveOriginInfo(w http.ResponseWriter, _ *http.Request) {
	info := OriginInfo{
		PublicKey:       proto.EncodePublicKey(o.PublicKey()),
		KeyAlgorithm:    "ed25519",
		SegmentDuration: o.p.Transcode.SegmentDuration.Seconds(),
		Addrs:           []string{},
	}
	if o.p.RootPeer != nil {
		info.PeerID, info.Addrs = o.p.RootPeer()
	}
	writeJSON(w, info)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// indexPage is a plain list of streams until the web player lands.
var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Canopy</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Canopy</h1>
{{if not .}}<p>No streams configured.</p>{{end}}
<ul>{{range .}}<li><strong>{{.ID}}</strong>
{{if .Live}}(live){{else if .Ended}}(ended, replay){{else}}(offline){{end}}
{{if .HLS}}<a href="{{.HLS}}">HLS</a> · <a href="{{.DASH}}">DASH</a>{{end}}</li>{{end}}</ul>
</body></html>`))

func (o *Origin) serveIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_ = indexPage.Execute(w, o.Streams())
}
