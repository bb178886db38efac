package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/canopylive/canopy/internal/playrules"
	"github.com/canopylive/canopy/internal/sim"
)

// simPreset returns the preset of that name, which configures sim like
// another run. loadgen-local mirrors
// `canopy loadgen -local` with its defaults: 300 viewers for 2 minutes,
// 30 s ramp, 20%/min churn, 22% behind NAT, 1000 kbit/s upload cap, at most
// 6 peers, 5 offers, origin + 4 relay nodes of 50 browsers each on
// loopback (upload not a limit), all four under the origin
// (origin.relay_children = max(4, relays)), pages on the relays, the
// lowest rung (144p) of the 480p demo stream, normal mode, 2 s segments.
func simPreset(name string) (func(*sim.Config) error, bool) {
	switch name {
	case "loadgen-local":
		return loadgenLocalPreset, true
	}
	return nil, false
}

func loadgenLocalPreset(c *sim.Config) error {
	var err error
	c.Viewers, c.Relays, c.Duration, c.JoinOver, c.ChurnPerMin = 300, 4, 2*time.Minute, 30*time.Second, 0.2
	c.Direct, c.MaxPeers, c.Offers, c.RelayMaxBrowsers, c.Pages = 0.78, 6, 5, 50, sim.PagesRelays
	c.RTT, c.OriginChildren = time.Millisecond, max(c.OriginChildren, c.Relays)
	if c.RelayUpload, err = sim.ParseDist("1G"); err != nil {
		return err
	}
	if c.ViewerUpload, err = sim.ParseDist("1M"); err != nil {
		return err
	}
	if c.ViewerDownload, err = sim.ParseDist("1G"); err != nil {
		return err
	}
	if c.Bitrate, err = sim.RenditionRate("144p"); err != nil {
		return err
	}
	top, err := sim.RenditionRate("480p") // the 854x480 demo: rungs 480p and 144p travel the tree
	c.TreeRate = top + c.Bitrate
	return err
}

// runSim is `canopy sim`: a simulated event, no sockets.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := sim.Defaults()
	preset := fs.String("preset", "", "start from a preset: loadgen-local (flags given explicitly still win)")
	viewers := fs.Int("viewers", d.Viewers, "concurrent viewers (replaced as they leave)")
	relays := fs.Int("relays", d.Relays, "relay nodes")
	relayUp := fs.String("relay-upload", d.RelayUpload.String(), "relay upload: RATE, uniform:A-B, lognormal:MEDIAN,SIGMA, mix:RATE@W,... (bits/s, k/M/G)")
	viewerUp := fs.String("viewer-upload", d.ViewerUpload.String(), "viewer upload distribution (home = "+sim.HomeUpload+")")
	viewerDown := fs.String("viewer-download", d.ViewerDownload.String(), "viewer download distribution")
	direct := fs.Float64("direct", d.Direct, "share of viewers that can connect P2P to other viewers")
	churn := fs.Float64("churn", d.ChurnPerMin, "share of viewers that leave (and are replaced) per minute")
	segment := fs.Duration("segment", d.Segment, "segment duration")
	bitrate := fs.String("bitrate", "", "stream rate in bits/s (k/M/G suffix); overrides -rendition")
	rendition := fs.String("rendition", "720p", "rung of the default ladder watched (1080p, 720p, 480p, 144p; audio added)")
	renditions := fs.String("renditions", "", "audience mix, e.g. 720p=0.6,480p=0.3,144p=0.1: each viewer draws its rung at join and shares P2P only within it (one swarm per rung); overrides -rendition (default: everyone on -rendition)")
	duration := fs.Duration("duration", d.Duration, "simulated time from the first viewer's join")
	joinOver := fs.Duration("join-over", 0, "viewers join evenly over this time (default min(30s, duration/4))")
	seed := fs.Uint64("seed", d.Seed, "random seed: the same seed gives the same result")
	mode := fs.String("mode", string(d.Mode), "latency mode: normal or fast")
	rtt := fs.Duration("rtt", d.RTT, "round-trip time of every link")
	pick := fs.String("pick", d.Pick, "peer picking: canopy (tracker/webtorrent as it is: at most 2 relays per announce); what-ifs: free-relays (skip full relays), relays-first (the tracker's pick before the 2-relay cap)")
	treeRate := fs.String("tree-rate", "", "what the relay tree carries in bits/s (default: the watched rung, or the mix's highest, and the default ladder's lower rungs)")
	originKids := fs.Int("origin-children", d.OriginChildren, "relay nodes the origin feeds directly (origin.relay_children)")
	relayKids := fs.Int("relay-children", d.RelayChildren, "children per relay node in the tree (node.max_children)")
	wiSync := fs.Int("whatif-sync-segments", 0, "WHAT-IF, not the shipped player: start this many segments behind the live edge, P2P window 2 segments more (0: the mode's)")
	wiNoSeed := fs.Bool("whatif-no-seeding", false, "WHAT-IF, not the shipped player: no random HTTP seeding (a segment no peer has waits until urgent)")
	pages := fs.String("pages", d.Pages, "page servers: origin, relays or all (round-robin, as loadgen -pages)")
	maxPeers := fs.Int("max-peers", 0, "connections per viewer at most (0: no limit, as in p2p-media-loader)")
	maxBrowsers := fs.Int("relay-browsers", 0, "browsers per relay (0: derived from the upload like node.max_browsers)")
	jsonOut := fs.String("json", "", "write the result as JSON to this file")
	chartsDir := fs.String("charts", "", "write charts (SVG) into this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sim: unexpected arguments %q", fs.Args())
	}
	c := sim.Defaults()
	if *preset != "" {
		p, ok := simPreset(*preset)
		if !ok {
			return fmt.Errorf("sim: unknown preset %q (have loadgen-local)", *preset)
		}
		if err := p(&c); err != nil {
			return err
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	apply := func(name string, f func() error) error {
		if *preset == "" || set[name] {
			return f()
		}
		return nil
	}
	dist := func(dst *sim.Dist, spec string) func() error {
		return func() error { v, err := sim.ParseDist(spec); *dst = v; return err }
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"viewers", func() error { c.Viewers = *viewers; return nil }},
		{"relays", func() error { c.Relays = *relays; return nil }},
		{"relay-upload", dist(&c.RelayUpload, *relayUp)},
		{"viewer-upload", dist(&c.ViewerUpload, *viewerUp)},
		{"viewer-download", dist(&c.ViewerDownload, *viewerDown)},
		{"direct", func() error { c.Direct = *direct; return nil }},
		{"churn", func() error { c.ChurnPerMin = *churn; return nil }},
		{"segment", func() error { c.Segment = *segment; return nil }},
		{"rendition", func() error { r, err := sim.RenditionRate(*rendition); c.Bitrate, c.TreeRate = r, 0; return err }},
		{"bitrate", func() error {
			if *bitrate == "" {
				return nil
			}
			r, err := sim.ParseRate(*bitrate)
			c.Bitrate, c.TreeRate = r, 0
			return err
		}},
		{"renditions", func() error {
			if *renditions == "" {
				return nil
			}
			if set["rendition"] || set["bitrate"] {
				return fmt.Errorf("give -renditions or -rendition/-bitrate, not both")
			}
			m, err := sim.ParseRenditions(*renditions)
			c.Renditions, c.TreeRate = m, 0
			return err
		}},
		{"duration", func() error { c.Duration = *duration; return nil }},
		{"join-over", func() error { c.JoinOver = *joinOver; return nil }},
		{"seed", func() error { c.Seed = *seed; return nil }},
		{"mode", func() error { c.Mode = playrules.Mode(*mode); return nil }},
		{"rtt", func() error { c.RTT = *rtt; return nil }},
		{"pick", func() error { c.Pick = *pick; return nil }},
		{"pages", func() error { c.Pages = *pages; return nil }},
		{"max-peers", func() error { c.MaxPeers = *maxPeers; return nil }},
		{"relay-browsers", func() error { c.RelayMaxBrowsers = *maxBrowsers; return nil }},
		{"tree-rate", func() error {
			if *treeRate == "" {
				return nil
			}
			r, err := sim.ParseRate(*treeRate)
			c.TreeRate = r
			return err
		}},
		{"origin-children", func() error { c.OriginChildren = *originKids; return nil }},
		{"relay-children", func() error { c.RelayChildren = *relayKids; return nil }},
		{"whatif-sync-segments", func() error { c.WhatIf.SyncSegments = *wiSync; return nil }},
		{"whatif-no-seeding", func() error { c.WhatIf.NoSeeding = *wiNoSeed; return nil }},
	}
	for _, s := range steps {
		if s.name == "rendition" && set["bitrate"] {
			continue
		}
		if err := apply(s.name, s.f); err != nil {
			return fmt.Errorf("sim: -%s: %w", s.name, err)
		}
	}
	if *preset == "loadgen-local" && !set["origin-children"] {
		c.OriginChildren = max(c.OriginChildren, c.Relays) // as loadgen -local sets origin.relay_children
	}
	begin := time.Now()
	res, err := sim.Run(ctx, c)
	if err != nil {
		return err
	}
	wall := time.Since(begin)
	if err := res.WriteSummary(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  (simulated in %.1f s of wall time)\n", wall.Seconds())
	if *jsonOut != "" {
		b, err := res.JSON()
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return fmt.Errorf("sim: %w", err)
		}
	}
	if *chartsDir != "" {
		if err := res.WriteCharts(*chartsDir); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  charts in %s\n", *chartsDir)
	}
	return nil
}
