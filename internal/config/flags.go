package config

import (
	"flag"
	"strings"
)

// BindCommon registers the flags every subcommand shares.
func BindCommon(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for keys, archives and logs")
	fs.StringVar(&c.Log.Level, "log-level", c.Log.Level, "debug, info, warn or error")
	fs.StringVar(&c.Log.Format, "log-format", c.Log.Format, "text or json")
}

// BindOrigin registers the origin's flags.
func BindOrigin(fs *flag.FlagSet, c *Config) {
	o := &c.Origin
	fs.StringVar(&o.HTTP, "http", o.HTTP, "HTTP listen address (:0 picks a free port)")
	fs.StringVar(&o.RTMP, "rtmp", o.RTMP, "RTMP listen address (:0 picks a free port)")
	fs.StringVar(&o.PublicURL, "public-url", o.PublicURL, "base URL viewers use, printed in logs (default from --http)")
	fs.StringVar(&o.KeyFile, "key-file", o.KeyFile, "origin Ed25519 key (PEM); default <data-dir>/origin.key")
	fs.StringVar(&o.Transcode.FFmpeg, "ffmpeg", o.Transcode.FFmpeg, "ffmpeg binary")
	fs.StringVar(&o.Transcode.Preset, "preset", o.Transcode.Preset, "x264 preset for the ladder")
	fs.BoolVar(&o.Transcode.Passthrough, "passthrough", o.Transcode.Passthrough, "pass the source video through as the top rung")
	fs.DurationVar(&o.ReconnectGrace, "reconnect-grace", o.ReconnectGrace, "how long a dropped publisher may reconnect and continue the stream")
	fs.BoolVar(&o.LowLatency.Enabled, "low-latency", o.LowLatency.Enabled, "also send each stream as WebRTC media, served over WHEP at POST /live/{stream}/whep")
}

// listFlag is a comma-separated list flag bound to a []string.
type listFlag struct{ p *[]string }

func (l listFlag) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l listFlag) Set(v string) error {
	*l.p = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l.p = append(*l.p, s)
		}
	}
	return nil
}

// BindOriginP2P registers the flags of the origin's root node.
func BindOriginP2P(fs *flag.FlagSet, c *Config) {
	fs.Var(listFlag{&c.Origin.P2P.Listen}, "p2p-listen", "libp2p listen multiaddrs of the relay tree's root, comma-separated")
	fs.Var(listFlag{&c.Origin.Trackers}, "trackers", "tracker multiaddrs (…/p2p/<peer ID>), comma-separated, tried in order")
	fs.StringVar(&c.Origin.BrowserTracker, "browser-tracker", c.Origin.BrowserTracker, "tracker HTTP base URL: GET /tracker is proxied to it, and with --low-latency it picks the relay for each WHEP viewer")
}

// BindTracker registers the tracker's flags.
func BindTracker(fs *flag.FlagSet, c *Config) {
	fs.Var(listFlag{&c.Tracker.P2P.Listen}, "p2p-listen", "libp2p listen multiaddrs, comma-separated")
	fs.StringVar(&c.Tracker.HTTP, "http", c.Tracker.HTTP, "HTTP address for /tracker/stats and /metrics")
}

// BindNode registers a relay node's flags.
func BindNode(fs *flag.FlagSet, c *Config) {
	n := &c.Node
	fs.Var(listFlag{&n.P2P.Listen}, "p2p-listen", "libp2p listen multiaddrs, comma-separated")
	fs.BoolVar(&n.P2P.NAT, "nat", n.P2P.NAT, "NAT traversal: port mapping, AutoNAT, hole punching, relay client")
	fs.StringVar(&n.HTTP, "http", n.HTTP, "HTTP address serving HLS/DASH to players")
	fs.Var(listFlag{&n.Trackers}, "trackers", "tracker multiaddrs (…/p2p/<peer ID>), comma-separated, tried in order")
	fs.StringVar(&n.OriginURL, "origin-url", n.OriginURL, "origin base URL, to fetch its public key")
	fs.StringVar(&n.OriginKey, "origin-key", n.OriginKey, "origin public key (base64); wins over --origin-url")
	fs.Var(listFlag{&n.Streams}, "streams", "stream IDs to relay, comma-separated")
	fs.BoolVar(&n.LowLatency, "low-latency", n.LowLatency, "relay the streams' WebRTC media too and serve it over WHEP")
	fs.IntVar(&n.MaxChildren, "max-children", n.MaxChildren, "most relay children to feed")
	fs.Float64Var(&n.UploadMbps, "upload-mbps", n.UploadMbps, "upload capacity to offer, Mbit/s")
	fs.Var(listFlag{&n.BrowserTrackers}, "browser-trackers", "browser tracker WebSocket URLs (ws://host:8081/tracker), comma-separated")
	fs.StringVar(&n.PublicURL, "public-url", n.PublicURL, "base URL viewers reach this node at; with --low-latency the tracker sends WHEP viewers there")
	fs.IntVar(&n.MaxWHEPViewers, "max-whep-viewers", n.MaxWHEPViewers, "low-latency viewers served at once; 0 derives it from --upload-mbps")
	fs.IntVar(&n.MaxBrowsers, "max-browsers", n.MaxBrowsers, "browsers served at once over WebRTC; 0 derives it from --upload-mbps")
}
