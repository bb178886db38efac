package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets of the acceptance point.
const (
	targetRTF      = 2.0  // canopy real-time factor, at least
	targetOverhead = 0.05 // canopy CPU over bare CPU, at most +5 %
)

// result is one measured run.
type result struct {
	kind      string // "bare" or "canopy"
	run       int    // 1-based
	wall      time.Duration
	ffmpegCPU time.Duration // RUSAGE_CHILDREN delta
	goCPU     time.Duration // RUSAGE_SELF delta (canopy only)
	inits     int
	fragments int
	bytes     int64
	dropped   int64         // tags the transcoder dropped (canopy only)
	others    time.Duration // CPU used by other processes during the run; -1 unknown
}

func (r result) cpu() time.Duration { return r.ffmpegCPU + r.goCPU }

// rtf is the real-time factor: media seconds transcoded per wall second.
func rtf(media, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return media.Seconds() / wall.Seconds()
}

// summary aggregates the runs of one kind.
type summary struct {
	wall, cpu time.Duration
	runs      int
}

func summarize(rs []result, kind string) summary {
	var s summary
	for _, r := range rs {
		if r.kind == kind {
			s.wall += r.wall
			s.cpu += r.cpu()
			s.runs++
		}
	}
	return s
}

// printTable writes one row per run; "CPU % of bare" compares a canopy run
// with the bare run just before it.
func printTable(w io.Writer, rs []result, media time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tkind\twall s\tRT factor\tffmpeg CPU s\tGo CPU s\tCPU s\tcores busy\tCPU % of bare\tinit+frag\tMB\tdropped tags\tothers CPU s")
	var bare time.Duration
	for _, r := range rs {
		goCPU, dropped := fmt.Sprintf("%.2f", r.goCPU.Seconds()), fmt.Sprint(r.dropped)
		if r.kind == "bare" {
			bare = r.cpu()
			goCPU, dropped = "-", "-"
		}
		others := "?"
		if r.others >= 0 {
			others = fmt.Sprintf("%.2f", r.others.Seconds())
		}
		pct := "-"
		if bare > 0 {
			pct = fmt.Sprintf("%.1f", 100*r.cpu().Seconds()/bare.Seconds())
		}
		fmt.Fprintf(tw, "%d\t%s\t%.2f\t%.2fx\t%.2f\t%s\t%.2f\t%.2f\t%s\t%d+%d\t%.1f\t%s\t%s\n",
			r.run, r.kind, r.wall.Seconds(), rtf(media, r.wall), r.ffmpegCPU.Seconds(), goCPU,
			r.cpu().Seconds(), r.cpu().Seconds()/r.wall.Seconds(), pct, r.inits, r.fragments,
			float64(r.bytes)/1e6, dropped, others)
	}
	_ = tw.Flush()
}

// printVerdict writes the totals and the two target lines; it reports
// whether both targets were met.
func printVerdict(w io.Writer, rs []result, media time.Duration, cores int) bool {
	bare, canopy := summarize(rs, "bare"), summarize(rs, "canopy")
	for _, s := range []struct {
		name string
		summary
	}{{"bare", bare}, {"canopy", canopy}} {
		fmt.Fprintf(w, "%-6s total over %d run(s): wall %.2f s, CPU %.2f s, real-time factor %.2fx\n",
			s.name, s.runs, s.wall.Seconds(), s.cpu.Seconds(), rtf(time.Duration(s.runs)*media, s.wall))
	}
	if bare.runs > 1 {
		mb, mc := medianCPU(rs, "bare"), medianCPU(rs, "canopy")
		fmt.Fprintf(w, "median CPU over %d runs: bare %.2f s, canopy %.2f s (ratio %.3f)\n",
			bare.runs, mb.Seconds(), mc.Seconds(), mc.Seconds()/mb.Seconds())
	}
	var others, wall time.Duration
	for _, r := range rs {
		others += max(r.others, 0)
		wall += r.wall
	}
	if share := others.Seconds() / (wall.Seconds() * float64(cores)); share > 0.05 {
		fmt.Fprintf(w, "note: other processes used %.1f CPU s (%.0f%% of the machine) during the runs; wall times and real-time factors read low\n",
			others.Seconds(), 100*share)
	}
	ratio := canopy.cpu.Seconds() / bare.cpu.Seconds()
	canopyRTF := rtf(time.Duration(canopy.runs)*media, canopy.wall)
	overheadOK := ratio-1 <= targetOverhead
	rtfOK := canopyRTF >= targetRTF
	fmt.Fprintf(w, "ratio canopy/bare CPU = %.3f (overhead %+.1f%%)  target <= +%.0f%%: %s\n",
		ratio, 100*(ratio-1), 100*targetOverhead, passMiss(overheadOK))
	note := ""
	if cores != 2 {
		note = fmt.Sprintf(" [measured on %d cores; the target is for 2]", cores)
	}
	fmt.Fprintf(w, "real-time factor canopy = %.2fx (target >= %gx): %s%s\n", canopyRTF, targetRTF, passMiss(rtfOK), note)
	return overheadOK && rtfOK
}

// medianCPU is the median CPU time of the runs of one kind.
func medianCPU(rs []result, kind string) time.Duration {
	var c []time.Duration
	for _, r := range rs {
		if r.kind == kind {
			c = append(c, r.cpu())
		}
	}
	if len(c) == 0 {
		return 0
	}
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// shellJoin quotes an argv for copy-pasting into a POSIX shell.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=+,@%", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
