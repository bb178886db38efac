package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/canopylive/canopy/internal/playrules"
	"github.com/canopylive/canopy/tracker"
)

// ErrConfig is returned for an invalid Config.
var ErrConfig = errors.New("sim: invalid config")

// Peer-picking policies (Config.Pick).
const (
	// PickCanopy mirrors tracker/webtorrent pick.go: an announcer's offers
	// go to relay nodes first, then to viewers (no network grouping in the
	// model), whether or not the relays can still take browsers.
	PickCanopy = "canopy"
	// PickFreeRelays is a what-if: relays that are full are skipped, so the
	// offers they would have wasted reach viewers.
	PickFreeRelays = "free-relays"
)

// Page servers (Config.Pages), as in loadgen's -pages.
const (
	PagesOrigin = "origin" // every player on the origin
	PagesRelays = "relays" // players spread round-robin over the relay nodes
	PagesAll    = "all"    // round-robin over the origin and the relays
)

// Config describes one simulated event. Zero fields take the defaults of
// Defaults; rates are bits/s.
type Config struct {
	Viewers int // concurrent viewers (kept constant under churn)
	Relays  int // relay nodes

	RelayUpload    Dist    // each relay's upload (download assumed equal)
	ViewerUpload   Dist    // each viewer's upload
	ViewerDownload Dist    // each viewer's download
	Direct         float64 // share of viewers that can connect P2P to other viewers
	ChurnPerMin    float64 // share of viewers that leave (and are replaced) per minute

	Segment  time.Duration
	Bitrate  float64       // stream rate r: video + audio of the rendition watched
	Duration time.Duration // from the first viewer's join to the end
	JoinOver time.Duration // viewers join uniformly over this span from the first join
	Warmup   time.Duration // steady-state metrics start this long after the first join (default: JoinOver + 2 × target latency)
	Seed     uint64
	Mode     playrules.Mode

	RTT              time.Duration // every round trip (viewer-origin, viewer-peer, relay-relay)
	SealDelay        time.Duration // segment end to sealed at the origin (encoder and packager)
	PeerSetup        time.Duration // announce to usable WebRTC connection
	AnnounceInterval time.Duration // tracker re-announce interval (tracker/webtorrent default 120 s)
	Offers           int           // offers per announce (p2p-media-loader: 5)
	OriginUpload     float64       // origin's upload for tree pushes (HTTP is not capped)
	OriginChildren   int           // the root's fan-out (tracker.DefaultRootFanout)
	TreeShare        float64       // share of a relay's upload given to children: maxChildren = TreeShare·upload/r
	Pick             string        // PickCanopy or PickFreeRelays
	Pages            string        // where players load the page and HTTP segments: PagesOrigin, PagesRelays or PagesAll
	MaxPeers         int           // connections per viewer at most (0: no limit, as in p2p-media-loader)
	RelayMaxBrowsers int           // browsers per relay (0: node.max_browsers derived from the upload)
	Bucket           time.Duration // time-series resolution
}

// Defaults returns the defaults: 1000 viewers, 4 relays of 100 Mbit/s,
// home-broadband viewer uploads, 78% direct, no churn, 2 s segments of the
// 720p rung, 3 minutes, normal mode.
func Defaults() Config {
	up, _ := ParseDist(HomeUpload)
	up.spec = "home"
	relay, _ := ParseDist("100M")
	down, _ := ParseDist("50M")
	rate, _ := RenditionRate("720p")
	return Config{
		Viewers: 1000, Relays: 4,
		RelayUpload: relay, ViewerUpload: up, ViewerDownload: down,
		Direct: 0.78, Segment: 2 * time.Second, Bitrate: rate,
		Duration: 3 * time.Minute, Seed: 1, Mode: playrules.Normal,
		RTT: 40 * time.Millisecond, PeerSetup: time.Second,
		AnnounceInterval: 120 * time.Second, Offers: 5,
		OriginUpload: 1e9, OriginChildren: tracker.DefaultRootFanout,
		TreeShare: 0.25, Pick: PickCanopy, Pages: PagesOrigin, Bucket: 5 * time.Second,
	}
}

// withDefaults fills zero fields from Defaults (Direct, ChurnPerMin,
// SealDelay and Seed keep their zero values: zero is meaningful for them).
func (c Config) withDefaults() Config {
	d := Defaults()
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	setDist := func(v *Dist, def Dist) {
		if v.IsZero() {
			*v = def
		}
	}
	setInt(&c.Viewers, d.Viewers)
	setDist(&c.RelayUpload, d.RelayUpload)
	setDist(&c.ViewerUpload, d.ViewerUpload)
	setDist(&c.ViewerDownload, d.ViewerDownload)
	setDur(&c.Segment, d.Segment)
	setF(&c.Bitrate, d.Bitrate)
	setDur(&c.Duration, d.Duration)
	if c.Mode == "" {
		c.Mode = d.Mode
	}
	setDur(&c.RTT, d.RTT)
	setDur(&c.PeerSetup, d.PeerSetup)
	setDur(&c.AnnounceInterval, d.AnnounceInterval)
	setInt(&c.Offers, d.Offers)
	setF(&c.OriginUpload, d.OriginUpload)
	setInt(&c.OriginChildren, d.OriginChildren)
	setF(&c.TreeShare, d.TreeShare)
	if c.Pick == "" {
		c.Pick = d.Pick
	}
	if c.Pages == "" {
		c.Pages = d.Pages
	}
	setDur(&c.Bucket, d.Bucket)
	if c.JoinOver == 0 {
		c.JoinOver = min(30*time.Second, c.Duration/4)
	}
	if c.Warmup == 0 {
		c.Warmup = min(c.JoinOver+2*playrules.TargetLatency(c.Mode, c.Segment), c.Duration/2)
	}
	return c
}

// firstJoin is when the first viewer may join: once the playlist holds a
// target latency's worth of segments.
func (c Config) firstJoin() time.Duration {
	return playrules.TargetLatency(c.Mode, c.Segment) + c.Segment + c.SealDelay
}

func (c Config) validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrConfig}, a...)...) }
	switch {
	case c.Viewers < 1 || c.Viewers > 10_000_000:
		return bad("viewers %d: want 1 to 10,000,000", c.Viewers)
	case c.Relays < 0 || c.Relays > 100_000:
		return bad("relays %d: want 0 to 100,000", c.Relays)
	case c.Direct < 0 || c.Direct > 1:
		return bad("direct %v: want 0 to 1", c.Direct)
	case c.ChurnPerMin < 0 || c.ChurnPerMin > 10:
		return bad("churn %v: want 0 to 10 per minute", c.ChurnPerMin)
	case c.Segment < 100*time.Millisecond || c.Segment > time.Minute:
		return bad("segment %v: want 100ms to 1m", c.Segment)
	case c.Bitrate < 1000 || c.Bitrate > 1e10:
		return bad("bitrate %v: want 1 kbit/s to 10 Gbit/s", c.Bitrate)
	case c.Duration < 2*c.Segment || c.Duration > 24*time.Hour:
		return bad("duration %v: want %v to 24h", c.Duration, 2*c.Segment)
	case c.JoinOver < 0 || c.Warmup < 0 || c.Warmup >= c.Duration:
		return bad("join-over %v / warmup %v: want >= 0 and warmup < duration %v", c.JoinOver, c.Warmup, c.Duration)
	case !c.Mode.Valid():
		return bad("mode %q: want normal or fast", c.Mode)
	case c.RTT < 0 || c.SealDelay < 0 || c.PeerSetup < 0 || c.AnnounceInterval < time.Second:
		return bad("negative delay or announce interval under 1s")
	case c.Offers < 1 || c.Offers > 50:
		return bad("offers %d: want 1 to 50", c.Offers)
	case c.OriginChildren < 1 || c.TreeShare <= 0 || c.TreeShare > 1 || c.OriginUpload <= 0:
		return bad("origin children %d, tree share %v, origin upload %v", c.OriginChildren, c.TreeShare, c.OriginUpload)
	case c.Pick != PickCanopy && c.Pick != PickFreeRelays:
		return bad("pick %q: want %s or %s", c.Pick, PickCanopy, PickFreeRelays)
	case c.Pages != PagesOrigin && c.Pages != PagesRelays && c.Pages != PagesAll:
		return bad("pages %q: want origin, relays or all", c.Pages)
	case c.Pages == PagesRelays && c.Relays == 0:
		return bad("pages relays needs relays")
	case c.MaxPeers < 0 || c.RelayMaxBrowsers < 0:
		return bad("negative max peers or max browsers")
	case c.Bucket < c.Segment/4 || c.Duration/c.Bucket > 100_000:
		return bad("bucket %v: too small", c.Bucket)
	}
	return nil
}
