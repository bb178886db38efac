package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// writeRun prints one N's per-depth table and its egress line.
func writeRun(w io.Writer, r result) {
	fmt.Fprintf(w, "\nN=%d relays, fanout %d, %d segments × %d rendition(s) × %s every %.0f ms over %s; tracker depth %d, root children %d, tree formed in %.0f ms%s\n",
		r.Nodes, r.Fanout, r.Segments, r.Renditions, human(float64(r.SegmentBytes)), r.IntervalMS, r.Transport,
		r.TreeDepth, r.RootChildren, r.AttachMS, changedNote(r))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "depth\tnodes\tsamples\trecv p50\trecv p99\tcached p50\tcached p99\thop p50\thop p99\thop max\t")
	for _, d := range r.Depths {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", d.Depth, d.Nodes, d.Recv.Count,
			msStr(d.Recv.P50), msStr(d.Recv.P99), msStr(d.Cached.P50), msStr(d.Cached.P99),
			msStr(d.Hop.P50), msStr(d.Hop.P99), msStr(d.Hop.Max))
	}
	fmt.Fprintf(tw, "all\t\t%d\t\t\t\t\t%s\t%s\t%s\t\n", r.Hop.Count, msStr(r.Hop.P50), msStr(r.Hop.P99), msStr(r.Hop.Max))
	_ = tw.Flush()
	if r.Missing+r.Uncached+r.Unrooted+r.DepthMismatch+r.ScanErrors > 0 {
		fmt.Fprintf(w, "incomplete: %d never arrived, %d arrived but not seen cached, %d without a parent arrival, %d off the tracker's depth, %d tap errors\n",
			r.Missing, r.Uncached, r.Unrooted, r.DepthMismatch, r.ScanErrors)
	}
	fmt.Fprintf(w, "origin egress: %s per segment = %.2f× fanout×size, %.2f× N×size (plain origin); root frames forwarded per segment %.2f; busiest relay %s per segment\n",
		human(r.EgressPerSegment), r.VsFanout, r.VsPlain, r.FramesPerSegment, human(r.MaxRelayEgressPerSegment))
}

// writeSummary prints the cross-N table and one summary line per N.
func writeSummary(w io.Writer, rs []result) {
	fmt.Fprintln(w, "\nsummary")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tdepth\tdeepest recv p50\tdeepest recv p99\thop p50\thop p99\tegress/segment\t×fanout\t×plain\tmissing\t")
	for _, r := range rs {
		last := deepest(r)
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.3f\t%d\t\n", r.Nodes, last.Depth,
			msStr(last.Recv.P50), msStr(last.Recv.P99), msStr(r.Hop.P50), msStr(r.Hop.P99),
			human(r.EgressPerSegment), r.VsFanout, r.VsPlain, r.Missing)
	}
	_ = tw.Flush()
	for _, r := range rs {
		fmt.Fprintln(w, summaryLine(r))
	}
}

// summaryLine is the one-line verdict of one N.
func summaryLine(r result) string {
	last := deepest(r)
	return fmt.Sprintf("tree N=%d fanout=%d: depth %d, deepest p50 %s p99 %s, per hop p50 %s p99 %s; origin egress %s/segment = %.2f× fanout×size, %.3f× plain origin; %d of %d deliveries missing",
		r.Nodes, r.Fanout, last.Depth, msStr(last.Recv.P50), msStr(last.Recv.P99), msStr(r.Hop.P50), msStr(r.Hop.P99),
		human(r.EgressPerSegment), r.VsFanout, r.VsPlain, r.Missing, r.Nodes*r.Segments*r.Renditions)
}

func deepest(r result) depthStats {
	if len(r.Depths) == 0 {
		return depthStats{}
	}
	return r.Depths[len(r.Depths)-1]
}

func changedNote(r result) string {
	if r.TreeChanged {
		return " (the tree changed during the run)"
	}
	return ""
}

func writeJSON(w io.Writer, rs []result) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(rs)
}

func msStr(v float64) string { return fmt.Sprintf("%.2fms", v) }

// human prints a byte count in KiB or MiB.
func human(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}
