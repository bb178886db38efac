package sim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/playrules"
)

// ErrConfig is returned for an invalid Config.
var ErrConfig = errors.New("sim: invalid config")

// Peer-picking policies (Config.Pick).
const (
	// PickCanopy mirrors tracker/webtorrent pick.go: at most MaxRelayOffers
	// of an announce's offers go to relay nodes, the rest to viewers (no
	// network grouping in the model), and more relays only when viewers
	// run out; relays get offers whether or not they can still take
	// browsers.
	PickCanopy = "canopy"
	// PickFreeRelays is a what-if, not the tracker's behaviour: as
	// PickCanopy, but relays that are full are skipped.
	PickFreeRelays = "free-relays"
	// PickRelaysFirst is the tracker's pick before the change to
	// MaxRelayOffers, kept for comparison: every offer goes to a relay
	// while relays last, viewers get only the rest.
	PickRelaysFirst = "relays-first"
)

// MaxRelayOffers mirrors tracker/webtorrent's maxRelayOffers (unexported
// there): how many of one announce's offers go to relay nodes while
// viewers can take the rest.
const MaxRelayOffers = 2

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

	Segment time.Duration
	Bitrate float64 // stream rate r: video + audio of the rendition watched
	// Renditions is the audience mix: each viewer draws its rendition at
	// join (from the run's RNG) with these weights and shares P2P only
	// with viewers of the same rendition. Empty: everyone watches Bitrate
	// (one swarm). With a mix, Bitrate is set to its highest rate.
	Renditions []Rendition
	// TreeRate is what the relay tree carries: every rendition of the
	// ladder (the root node publishes all of them), so the origin pushes
	// this to each first-level relay and every hop moves this much.
	// 0: TreeRateFor(Bitrate).
	TreeRate float64
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
	OriginChildren   int           // the root's fan-out: origin.relay_children
	RelayChildren    int           // each relay's max_children in the tree: node.max_children
	Pick             string        // PickCanopy, PickFreeRelays or PickRelaysFirst
	Pages            string        // where players load the page and HTTP segments: PagesOrigin, PagesRelays or PagesAll
	MaxPeers         int           // connections per viewer at most (0: no limit, as in p2p-media-loader)
	RelayMaxBrowsers int           // browsers per relay (0: node.max_browsers derived from the upload)
	Bucket           time.Duration // time-series resolution

	// WhatIf changes the player's rules away from the shipped ones, to
	// measure what each costs. The zero value is the shipped player.
	WhatIf WhatIf
}

// WhatIf holds player behaviours that are NOT what the shipped page does
// (web/src/p2pconfig.js with p2p-media-loader 2.3.1); they exist to
// measure how far each rule keeps origin egress from the bound.
type WhatIf struct {
	// SyncSegments, when > 0, replaces the mode's target latency (hls.js
	// liveSyncDurationCount): playback starts this many segments behind
	// the live edge and the P2P window grows with it (HTTP window = latency,
	// P2P window = latency + 2 segments, as p2pconfig.js derives them).
	SyncSegments int
	// NoSeeding turns off random HTTP seeding: a segment that no peer has
	// is fetched over HTTP only once it is urgent.
	NoSeeding bool
}

// shipped reports whether w is the shipped player (no what-if).
func (w WhatIf) shipped() bool { return w == WhatIf{} }

// windows returns the player's windows and target latency in segments.
func (c Config) windows() (playrules.Windows, int) {
	w := playrules.LiveWindows(c.Mode, c.Segment)
	sync := int(playrules.TargetLatency(c.Mode, c.Segment) / c.Segment)
	if n := c.WhatIf.SyncSegments; n > 0 {
		sync = n
		w.HTTP = time.Duration(n) * c.Segment
		w.P2P = w.HTTP + 2*c.Segment
	}
	return w, sync
}

// targetLatency is how far behind the live edge playback starts.
func (c Config) targetLatency() time.Duration {
	_, sync := c.windows()
	return time.Duration(sync) * c.Segment
}

// Defaults returns the defaults: 1000 viewers, 4 relays of 100 Mbit/s,
// home-broadband viewer uploads, 78% direct, no churn, 2 s segments of the
// 720p rung, 3 minutes, normal mode; the tree fan-outs are the shipped
// config's (origin.relay_children, node.max_children).
func Defaults() Config {
	up, _ := ParseDist(HomeUpload)
	up.spec = "home"
	relay, _ := ParseDist("100M")
	down, _ := ParseDist("50M")
	rate, _ := RenditionRate("720p")
	shipped := config.Default()
	return Config{
		Viewers: 1000, Relays: 4,
		RelayUpload: relay, ViewerUpload: up, ViewerDownload: down,
		Direct: 0.78, Segment: 2 * time.Second, Bitrate: rate,
		Duration: 3 * time.Minute, Seed: 1, Mode: playrules.Normal,
		RTT: 40 * time.Millisecond, PeerSetup: time.Second,
		AnnounceInterval: 120 * time.Second, Offers: 5,
		OriginUpload: 1e9, OriginChildren: shipped.Origin.RelayChildren,
		RelayChildren: shipped.Node.MaxChildren, Pick: PickCanopy, Pages: PagesOrigin, Bucket: 5 * time.Second,
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
	if len(c.Renditions) > 0 {
		c.Bitrate = 0
		for _, r := range c.Renditions {
			c.Bitrate = math.Max(c.Bitrate, r.Rate)
		}
	}
	setF(&c.TreeRate, TreeRateFor(c.Bitrate))
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
	setInt(&c.RelayChildren, d.RelayChildren)
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
		c.Warmup = min(c.JoinOver+2*c.targetLatency(), c.Duration/2)
	}
	return c
}

// firstJoin is when the first viewer may join: once the playlist holds a
// target latency's worth of segments.
func (c Config) firstJoin() time.Duration {
	return c.targetLatency() + c.Segment + c.SealDelay
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
	case c.TreeRate < c.mixRateSum() || c.TreeRate > 1e11:
		return bad("tree rate %v: want at least the watched renditions' %v", c.TreeRate, c.mixRateSum())
	case !c.mixValid():
		return bad("renditions %v: want up to 16 distinct rates of 1 kbit/s to 10 Gbit/s with weights summing to 1", c.Renditions)
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
	case c.OriginChildren < 1 || c.OriginChildren > 64 || c.RelayChildren < 1 || c.RelayChildren > 64 || c.OriginUpload <= 0:
		// The ranges config.Validate allows for origin.relay_children and node.max_children.
		return bad("origin children %d, relay children %d (want 1 to 64 each), origin upload %v",
			c.OriginChildren, c.RelayChildren, c.OriginUpload)
	case c.Pick != PickCanopy && c.Pick != PickFreeRelays && c.Pick != PickRelaysFirst:
		return bad("pick %q: want %s, %s or %s", c.Pick, PickCanopy, PickFreeRelays, PickRelaysFirst)
	case c.WhatIf.SyncSegments < 0 || c.WhatIf.SyncSegments > 30:
		return bad("what-if sync segments %d: want 0 to 30", c.WhatIf.SyncSegments)
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

// mix returns the audience mix: Renditions, or everyone on Bitrate.
func (c Config) mix() []Rendition {
	if len(c.Renditions) == 0 {
		return []Rendition{{Rate: c.Bitrate, Weight: 1}}
	}
	return c.Renditions
}

// meanRate is the audience's mean stream rate Σ w_i·r_i (Bitrate without
// a mix).
func (c Config) meanRate() float64 {
	var m float64
	for _, r := range c.mix() {
		m += r.Weight * r.Rate
	}
	return m
}

// mixRateSum is what the tree must carry at least: every watched rate.
func (c Config) mixRateSum() float64 {
	var sum float64
	for _, r := range c.mix() {
		sum += r.Rate
	}
	return sum
}

func (c Config) mixValid() bool {
	if len(c.Renditions) > 16 {
		return false
	}
	var w float64
	for i, r := range c.Renditions {
		if r.Rate < 1000 || r.Rate > 1e10 || !(r.Weight > 0) {
			return false
		}
		for _, o := range c.Renditions[:i] {
			if o.Rate == r.Rate {
				return false
			}
		}
		w += r.Weight
	}
	return len(c.Renditions) == 0 || math.Abs(w-1) < 1e-6
}
