package main

import (
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func sortedCopy(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

// percentile of sorted values, nearest rank; 0 when empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func kib(bytes int64, peers int) string {
	return fmt.Sprintf("%.1f KiB", float64(bytes)/1024/float64(peers))
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.3gx", a/b)
}

func report(out io.Writer, cfg config, goP, nodeP *phase, stats string) {
	fmt.Fprintf(out, "\nannounce latency (send -> reply with interval)\n")
	fmt.Fprintf(out, "  %-44s %9s %9s %9s %9s %9s   %s\n", "", "replies", "p50", "p90", "p99", "max", "machine load (1-min avg, start-end)")
	for _, p := range []*phase{goP, nodeP} {
		if p == nil {
			continue
		}
		l := p.latencies
		fmt.Fprintf(out, "  %-44s %9d %9s %9s %9s %9s   %s\n", p.name, len(l), ms(percentile(l, 50)),
			ms(percentile(l, 90)), ms(percentile(l, 99)), ms(l[len(l)-1]), p.load)
	}
	fmt.Fprintf(out, "\ntracker CPU time for the whole load (connects, announces, relays; user+system):\n")
	for _, p := range []*phase{goP, nodeP} {
		if p != nil {
			fmt.Fprintf(out, "  %-44s %8.2fs  (%.0f µs per announce incl. its relays)\n", p.name, p.cpu.Seconds(),
				float64(p.cpu.Microseconds())/float64(cfg.peers*cfg.rounds))
		}
	}
	fmt.Fprintf(out, "\nload client, canopy run: %s\n", goP.counters)
	if nodeP != nil {
		fmt.Fprintf(out, "load client, node run:   %s\n", nodeP.counters)
	}
	fmt.Fprintf(out, "%s\n", stats)

	n := cfg.peers
	fmt.Fprintf(out, "\nmemory per peer (after a full GC, all peers connected and idle; the load client is a separate process)\n")
	fmt.Fprintf(out, "  canopy tracker (this process):         heap %s, stacks %s; RSS %s\n",
		kib(goP.mem.heap, n), kib(goP.mem.stack, n), kib(goP.mem.rss, n))
	if nodeP == nil {
		return
	}
	fmt.Fprintf(out, "  bittorrent-tracker (node child):       RSS %s\n", kib(nodeP.mem.rss, n))

	gl, nl := goP.latencies, nodeP.latencies
	fmt.Fprintf(out, "\nratio canopy/bittorrent-tracker: latency p50 %s, p99 %s; CPU time %s; RSS per peer %s (lower is better)\n",
		ratio(float64(percentile(gl, 50)), float64(percentile(nl, 50))),
		ratio(float64(percentile(gl, 99)), float64(percentile(nl, 99))),
		ratio(float64(goP.cpu), float64(nodeP.cpu)),
		ratio(float64(goP.mem.rss), float64(nodeP.mem.rss)))
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
