package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/canopylive/canopy/internal/charts"
)

// JSON returns the result as indented JSON (the same bytes for the same
// result).
func (r *Result) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sim: encode result: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteSummary prints the headline numbers.
func (r *Result) WriteSummary(w io.Writer) error {
	c := r.Config
	p := func(f string, a ...any) { fmt.Fprintf(w, f, a...) }
	p("canopy sim: %d viewers, %d relays (%s up), viewer upload %s, direct %.0f%%, churn %.0f%%/min\n",
		c.Viewers, c.Relays, c.RelayUpload, c.ViewerUpload, 100*c.Direct, 100*c.ChurnPerMin)
	stream := "stream"
	if c.Renditions != "" {
		stream = "top rung"
	}
	p("  %s %.3f Mbit/s (tree carries %.3f), %.1f s segments (%d bytes), %s mode, %.0f s from the first join, seed %d, pick %s, pages %s\n",
		stream, c.BitrateMbps, c.TreeRateMbps, c.SegmentS, c.SegmentBytes, c.Mode, c.DurationS, c.Seed, c.Pick, c.Pages)
	if c.Renditions != "" {
		p("  audience mix %s: one swarm per rendition (viewers share only within theirs; relays serve all)\n", c.Renditions)
		for _, rr := range r.Renditions {
			p("    %-5s %.3f Mbit/s: %d joined; steady: origin HTTP %.1f%% (%.2f Mbit/s), relays %.1f%%, viewers %.1f%%, continuity %.3f%%\n",
				rr.Name, rr.RateMbps, rr.Joined, rr.OriginShare, rr.OriginMbps, rr.RelayShare, rr.PeerShare, rr.Continuity)
		}
	}
	if w := c.WhatIf; w != (WhatIf{}) {
		p("  WHAT-IF (not the shipped player): sync segments %d (0: the mode's), no random seeding %v\n", w.SyncSegments, w.NoSeeding)
	}
	t := r.Tree
	p("  relay tree: %d attached, %d under the origin (relay_children %d), max_children %d, depth %d, last relay has a segment %.2f s after seal; browser slots %d (%d used)\n",
		t.Attached, t.FirstLevel, c.OriginChildren, c.RelayChildren, t.MaxDepth, t.MaxLagS, t.BrowserSlots, t.BrowsersServed)
	p("  viewers: %d joined (%d direct), %d started, %.1f connections each at the end\n",
		r.Viewers.Joined, r.Viewers.Direct, r.Viewers.Started, r.Viewers.MeanPeers)
	p("  time to first segment: p50 %.2f s, p95 %.2f s\n", r.TTFS.P50, r.TTFS.P95)
	for _, x := range []struct {
		name string
		w    Window
	}{{"whole run", r.Run}, {"steady", r.Steady}} {
		w := x.w
		p("  %s (%.0f-%.0f s): origin HTTP %.1f%%, relay HTTP %.1f%%, relay P2P %.1f%%, viewers %.1f%%: relay + peer %.1f%%, P2P %.1f%%\n",
			x.name, w.FromS, w.ToS, w.OriginShare, w.RelayHTTPShare, w.RelayP2PShare, w.PeerShare, w.RelayPeerShare, w.P2PShare)
		bound := "max(r, N·r − Σu)"
		if c.Renditions != "" {
			bound = "per swarm max(Σr_i, Σ max(r_i, N_i·r_i − U_i) − U_relays)"
		}
		p("    origin egress %.2f Mbit/s (%d bytes), %.1f%% of viewers × r; bound %s %.2f Mbit/s; egress/bound %.2f\n",
			w.OriginEgressMbps, w.OriginEgressBytes, w.EgressPctOfNr, bound, w.BoundMbps, w.EgressOverBound)
		if c.Renditions != "" {
			p("    aggregate bound max(Σr_i, Σ N_i·r_i − Σu) %.2f Mbit/s (looser); egress/aggregate %.2f\n",
				w.BoundAggregateMbps, w.EgressOverBoundAggregate)
		}
		p("    continuity %.3f%%, %.4f stalls per viewer-minute, live latency p50 %.2f s, p95 %.2f s\n",
			w.Continuity, w.StallsPerViewerMin, w.LatencyP50S, w.LatencyP95S)
	}
	return nil
}

// Chart file names WriteCharts creates in its directory.
const (
	ChartShare  = "share.svg"
	ChartEgress = "egress.svg"
	ChartTTFS   = "ttfs_cdf.svg"
)

// WriteCharts draws the share of each source over time, origin egress
// against the bound, and the CDF of time to first segment into dir.
func (r *Result) WriteCharts(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sim: charts: %w", err)
	}
	s := r.Series
	egressTitle := "Origin egress and the bound max(r, N·r − Σu)"
	if r.Config.Renditions != "" {
		egressTitle = "Origin egress and the per-swarm bound max(Σr_i, Σ max(r_i, N_i·r_i − U_i) − U_relays)"
	}
	all := []struct {
		file string
		c    charts.Chart
	}{
		{ChartShare, charts.Chart{Title: "Where viewers got segments", XLabel: "seconds after the first join", YLabel: "share of bytes (%)",
			Series: []charts.Series{{Name: "origin (HTTP)", X: s.T, Y: s.OriginShare},
				{Name: "relay nodes (HTTP + P2P)", X: s.T, Y: s.RelayShare}, {Name: "other viewers", X: s.T, Y: s.PeerShare}}}},
		{ChartEgress, charts.Chart{Title: egressTitle, XLabel: "seconds after the first join", YLabel: "Mbit/s",
			Series: []charts.Series{{Name: "origin egress", X: s.T, Y: s.EgressMbps}, {Name: "bound", X: s.T, Y: s.BoundMbps}}}},
		{ChartTTFS, charts.Chart{Title: "Time to first segment (CDF)", XLabel: "seconds after joining", YLabel: "viewers (%)",
			Series: []charts.Series{{Name: "viewers", X: r.TTFSCDF.X, Y: r.TTFSCDF.Y}}}},
	}
	for _, ch := range all {
		if err := charts.Write(filepath.Join(dir, ch.file), ch.c); err != nil {
			return err
		}
	}
	return nil
}
