package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid config")

// Config is the whole configuration of one canopy process. canopy.example.yaml
// at the repository root documents every field.
type Config struct {
	DataDir string  `yaml:"data_dir"`
	Log     Log     `yaml:"log"`
	Origin  Origin  `yaml:"origin"`
	Tracker Tracker `yaml:"tracker"`
	Node    Node    `yaml:"node"`
}

// P2P configures a libp2p host.
type P2P struct {
	Listen []string `yaml:"listen"` // multiaddrs
	NAT    bool     `yaml:"nat"`    // port mapping, AutoNAT, hole punching, relay client
}

// Tracker configures `canopy tracker`.
type Tracker struct {
	P2P              P2P           `yaml:"p2p"`
	HTTP             string        `yaml:"http"` // /tracker/stats and /metrics
	HeartbeatTimeout time.Duration `yaml:"heartbeat_timeout"`
	// AllowedOrigins limits which web pages may open the browser tracker's
	// WebSocket (their Origin header); empty allows any.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// TrustForwardedFor takes a browser's address from X-Forwarded-For, as
	// the origin's /tracker proxy sets it (for "same network" peer picks).
	TrustForwardedFor bool `yaml:"trust_forwarded_for"`
}

// Node configures `canopy node`, a volunteer relay.
type Node struct {
	P2P         P2P           `yaml:"p2p"`
	HTTP        string        `yaml:"http"`       // HLS/DASH for players
	Trackers    []string      `yaml:"trackers"`   // multiaddrs ending in /p2p/<peer ID>, tried in order
	OriginURL   string        `yaml:"origin_url"` // where to learn the origin's key (GET /api/v1/origin)
	OriginKey   string        `yaml:"origin_key"` // or the key itself (base64), which wins
	Streams     []string      `yaml:"streams"`
	MaxChildren int           `yaml:"max_children"`
	UploadMbps  float64       `yaml:"upload_mbps"`
	Window      time.Duration `yaml:"window"`
	// BrowserTrackers are WebSocket URLs of browser trackers
	// (ws://host:8081/tracker): the node joins the browser swarms of its
	// streams there as a super-peer. Empty: it serves no browsers over WebRTC.
	BrowserTrackers []string `yaml:"browser_trackers"`
	// MaxBrowsers is how many browsers the node serves at once over WebRTC;
	// 0 derives it from upload_mbps (one per 2 Mbit/s, at least 2).
	MaxBrowsers int `yaml:"max_browsers"`
	// LowLatency pulls the streams' WebRTC media from the node's parent in
	// the relay tree and serves it over WHEP (the origin must have
	// origin.low_latency on).
	LowLatency bool `yaml:"low_latency"`
	// PublicURL is the base URL viewers reach this node's HTTP at
	// (https://relay.example:8090). With low_latency it is told to the
	// tracker, which then sends low-latency viewers here. Empty: the node
	// serves only viewers who open its own pages.
	PublicURL string `yaml:"public_url"`
	// MaxWHEPViewers is how many low-latency viewers the node takes at
	// once; 0 derives it from upload_mbps (one per 3 Mbit/s, at least 2).
	MaxWHEPViewers int `yaml:"max_whep_viewers"`
}

// Log selects the log level and format.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Origin configures RTMP ingest, transcoding, storage and HTTP serving.
type Origin struct {
	HTTP           string        `yaml:"http"`
	RTMP           string        `yaml:"rtmp"`
	PublicURL      string        `yaml:"public_url"`
	KeyFile        string        `yaml:"key_file"`
	TLSCert        string        `yaml:"tls_cert"`
	TLSKey         string        `yaml:"tls_key"`
	MaxConnections int           `yaml:"max_connections"`
	IdleTimeout    time.Duration `yaml:"idle_timeout"`
	ReconnectGrace time.Duration `yaml:"reconnect_grace"`
	DVRWindow      time.Duration `yaml:"dvr_window"`
	CORSOrigins    []string      `yaml:"cors_origins"`
	Streams        []Stream      `yaml:"streams"`
	Transcode      Transcode     `yaml:"transcode"`
	P2P            P2P           `yaml:"p2p"`            // the root of the relay tree
	Trackers       []string      `yaml:"trackers"`       // the root joins these
	RelayChildren  int           `yaml:"relay_children"` // relay nodes the origin feeds directly
	// BrowserTracker is the tracker's HTTP base URL (http://host:8081); the
	// origin proxies GET /tracker there, so pages it serves reach the
	// browser tracker on their own host. Empty: no /tracker on the origin.
	BrowserTracker string `yaml:"browser_tracker"`
	// LowLatency sends each stream as WebRTC media too, served over WHEP
	// at POST /live/{stream}/whep.
	LowLatency LowLatency `yaml:"low_latency"`
}

// LowLatency configures the origin's WebRTC output.
type LowLatency struct {
	Enabled bool `yaml:"enabled"`
	// Rung names the ladder rung whose size the WebRTC video has; empty:
	// the tallest encoded rung of at most 720 lines.
	Rung string `yaml:"rung"`
}

// Stream maps a secret stream key to a public stream ID.
type Stream struct {
	ID  string `yaml:"id"`
	Key string `yaml:"key"`
}

// Transcode configures the ffmpeg ladder.
type Transcode struct {
	FFmpeg          string        `yaml:"ffmpeg"`
	Preset          string        `yaml:"preset"`
	Threads         int           `yaml:"threads"`
	Passthrough     bool          `yaml:"passthrough"`
	SegmentDuration time.Duration `yaml:"segment_duration"`
	Ladder          []Rung        `yaml:"ladder"`
}

// Rung is one rendition of the ladder. Width follows the source aspect ratio.
type Rung struct {
	Name    string `yaml:"name"`
	Height  int    `yaml:"height"`
	Bitrate int    `yaml:"bitrate"` // video bits per second
}

// Default returns the built-in configuration.
func Default() Config {
	return Config{
		DataDir: "canopy-data",
		Log:     Log{Level: "info", Format: "text"},
		Origin: Origin{
			HTTP:           ":8080",
			RTMP:           ":1935",
			MaxConnections: 64,
			IdleTimeout:    10 * time.Second,
			ReconnectGrace: 30 * time.Second,
			DVRWindow:      10 * time.Minute,
			CORSOrigins:    []string{"*"},
			Transcode: Transcode{
				FFmpeg:          "ffmpeg",
				Preset:          "veryfast",
				SegmentDuration: 2 * time.Second,
			},
			P2P:           P2P{Listen: []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"}},
			RelayChildren: 4,
		},
		Tracker: Tracker{
			P2P:              P2P{Listen: []string{"/ip4/0.0.0.0/tcp/4002", "/ip4/0.0.0.0/udp/4002/quic-v1"}},
			HTTP:             ":8081",
			HeartbeatTimeout: 3 * time.Second,
		},
		Node: Node{
			P2P:         P2P{Listen: []string{"/ip4/0.0.0.0/tcp/4003", "/ip4/0.0.0.0/udp/4003/quic-v1"}, NAT: true},
			HTTP:        ":8090",
			MaxChildren: 4,
			UploadMbps:  20,
			Window:      10 * time.Minute,
		},
	}
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks ranges and cross-field rules.
func (c *Config) Validate() error {
	o := &c.Origin
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("%w: log.format %q: want text or json", ErrInvalid, c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("%w: log.level %q: want debug, info, warn or error", ErrInvalid, c.Log.Level)
	}
	if c.DataDir == "" {
		return fmt.Errorf("%w: data_dir is empty", ErrInvalid)
	}
	if o.MaxConnections < 1 {
		return fmt.Errorf("%w: origin.max_connections must be at least 1", ErrInvalid)
	}
	if o.IdleTimeout < time.Second || o.ReconnectGrace < 0 || o.DVRWindow < 10*time.Second {
		return fmt.Errorf("%w: origin.idle_timeout >= 1s, reconnect_grace >= 0 and dvr_window >= 10s", ErrInvalid)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return fmt.Errorf("%w: origin.tls_cert and origin.tls_key go together", ErrInvalid)
	}
	sd := o.Transcode.SegmentDuration
	if sd < 500*time.Millisecond || sd > 10*time.Second {
		return fmt.Errorf("%w: origin.transcode.segment_duration %v: want 0.5s to 10s", ErrInvalid, sd)
	}
	ids, keys := map[string]bool{}, map[string]bool{}
	for i, s := range o.Streams {
		if !idPattern.MatchString(s.ID) {
			return fmt.Errorf("%w: origin.streams[%d].id %q: want 1-64 of A-Z a-z 0-9 _ -", ErrInvalid, i, s.ID)
		}
		if len(s.Key) < 8 {
			return fmt.Errorf("%w: origin.streams[%d] (%s): key must be at least 8 characters", ErrInvalid, i, s.ID)
		}
		if ids[s.ID] || keys[s.Key] {
			return fmt.Errorf("%w: origin.streams[%d] (%s): duplicate id or key", ErrInvalid, i, s.ID)
		}
		ids[s.ID], keys[s.Key] = true, true
	}
	if o.RelayChildren < 1 || o.RelayChildren > 64 {
		return fmt.Errorf("%w: origin.relay_children %d: want 1 to 64", ErrInvalid, o.RelayChildren)
	}
	if c.Node.MaxChildren < 1 || c.Node.MaxChildren > 64 {
		return fmt.Errorf("%w: node.max_children %d: want 1 to 64", ErrInvalid, c.Node.MaxChildren)
	}
	if c.Node.UploadMbps <= 0 || c.Node.Window < 10*time.Second || c.Tracker.HeartbeatTimeout < 100*time.Millisecond {
		return fmt.Errorf("%w: node.upload_mbps > 0, node.window >= 10s and tracker.heartbeat_timeout >= 100ms", ErrInvalid)
	}
	for i, s := range c.Node.Streams {
		if !idPattern.MatchString(s) {
			return fmt.Errorf("%w: node.streams[%d] %q is not a stream ID", ErrInvalid, i, s)
		}
	}
	for i, r := range o.Transcode.Ladder {
		if !idPattern.MatchString(r.Name) || r.Height < 64 || r.Height > 4320 || r.Bitrate < 50_000 {
			return fmt.Errorf("%w: origin.transcode.ladder[%d]: want a name, height 64-4320 and bitrate >= 50000", ErrInvalid, i)
		}
	}
	if err := validateURL("origin.browser_tracker", o.BrowserTracker, "http", "https"); err != nil {
		return err
	}
	for i, u := range c.Node.BrowserTrackers {
		if err := validateURL(fmt.Sprintf("node.browser_trackers[%d]", i), u, "ws", "wss"); err != nil {
			return err
		}
		if u == "" {
			return fmt.Errorf("%w: node.browser_trackers[%d] is empty", ErrInvalid, i)
		}
	}
	if err := validateURL("node.public_url", c.Node.PublicURL, "http", "https"); err != nil {
		return err
	}
	if c.Node.MaxWHEPViewers < 0 || c.Node.MaxWHEPViewers > 10_000 {
		return fmt.Errorf("%w: node.max_whep_viewers %d: want 0 (derive) to 10000", ErrInvalid, c.Node.MaxWHEPViewers)
	}
	if c.Node.MaxBrowsers < 0 || c.Node.MaxBrowsers > 10_000 {
		return fmt.Errorf("%w: node.max_browsers %d: want 0 (derive) to 10000", ErrInvalid, c.Node.MaxBrowsers)
	}
	return nil
}

// validateURL accepts "" or an absolute URL with one of schemes and a host.
func validateURL(field, s string, schemes ...string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !slices.Contains(schemes, u.Scheme) {
		return fmt.Errorf("%w: %s %q: want a %s URL with a host", ErrInvalid, field, s, strings.Join(schemes, " or "))
	}
	return nil
}

// MaxWHEPViewersOrDerived is node.max_whep_viewers, or when 0 one viewer
// per 3 Mbit/s of node.upload_mbps (a low-latency viewer takes the whole
// WebRTC rendition from the node, with no help from other viewers), at
// least 2.
func (n Node) MaxWHEPViewersOrDerived() int {
	if n.MaxWHEPViewers > 0 {
		return n.MaxWHEPViewers
	}
	return max(2, int(n.UploadMbps/3))
}

// MaxBrowsersOrDerived is node.max_browsers, or when 0 one browser per 2 Mbit/s of
// node.upload_mbps (a viewer takes one rendition, at most a few Mbit/s,
// and also gets much of it from other viewers), at least 2.
func (n Node) MaxBrowsersOrDerived() int {
	if n.MaxBrowsers > 0 {
		return n.MaxBrowsers
	}
	return max(2, int(n.UploadMbps/2))
}
