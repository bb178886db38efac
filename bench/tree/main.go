package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/canopylive/canopy/internal/benchutil"
)

// config is the command line.
type config struct {
	nodes      []int
	fanout     int
	segments   int
	size       int
	renditions int
	interval   time.Duration
	warmup     int
	settle     time.Duration
	drain      time.Duration
	transport  string
	json       bool
	verbose    bool
	timeout    time.Duration
}

var (
	errFlags = errors.New("bad flags")
	errSize  = benchutil.ErrSize
)

func main() {
	benchutil.Main("tree", parseFlags, func(c config) time.Duration { return c.timeout },
		func(ctx context.Context, c config) error { return run(ctx, c, os.Stdout, os.Stderr) })
}

func parseFlags(argv []string, out io.Writer) (config, error) {
	c := config{}
	fs := flag.NewFlagSet("tree", flag.ContinueOnError)
	fs.SetOutput(out)
	nodes := fs.String("nodes", "5,10,20,50", "comma-separated numbers of relay nodes; one run each")
	size := fs.String("size", "1MiB", "bytes per segment (suffixes KiB, MiB)")
	fs.IntVar(&c.fanout, "fanout", 4, "MaxChildren of every node, the root's included")
	fs.IntVar(&c.segments, "segments", 30, "measured media segments per rendition")
	fs.IntVar(&c.renditions, "renditions", 1, "renditions; each publishes every segment")
	fs.DurationVar(&c.interval, "interval", 500*time.Millisecond, "time between published segments (all renditions at once)")
	fs.IntVar(&c.warmup, "warmup", 2, "segments published and delivered before measuring (not counted)")
	fs.DurationVar(&c.settle, "settle", time.Minute, "how long the tree may take to form")
	fs.DurationVar(&c.drain, "drain", 30*time.Second, "how long to wait for the last segments to reach every node")
	fs.StringVar(&c.transport, "transport", "tcp", "libp2p transport on loopback: tcp or quic")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON instead of tables")
	fs.BoolVar(&c.verbose, "v", false, "log the nodes' and tracker's info messages to stderr")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "give up after this long")
	if err := fs.Parse(argv); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("%w: unexpected arguments %q", errFlags, fs.Args())
	}
	var err error
	if c.nodes, err = parseList(*nodes); err != nil {
		return c, err
	}
	if c.size, err = parseSize(*size); err != nil {
		return c, err
	}
	switch {
	case c.fanout < 1, c.segments < 1, c.renditions < 1, c.warmup < 0, c.interval <= 0:
		return c, fmt.Errorf("%w: -fanout, -segments, -renditions must be ≥ 1, -warmup ≥ 0, -interval > 0", errFlags)
	case c.transport != "tcp" && c.transport != "quic":
		return c, fmt.Errorf("%w: -transport %q", errFlags, c.transport)
	}
	return c, nil
}

// parseList parses "5,10,20" into positive integers.
func parseList(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: -nodes %q: want positive integers", errFlags, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseSize parses a byte count with an optional KiB/MiB/KB/MB/k/M suffix.
func parseSize(s string) (int, error) { return benchutil.ParseSize(s, 1<<30) }

// run benchmarks every N and prints the results.
func run(ctx context.Context, cfg config, out, errOut io.Writer) error {
	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))
	var results []result
	for _, n := range cfg.nodes {
		fmt.Fprintf(errOut, "tree: N=%d ...\n", n)
		r, err := runOnce(ctx, cfg, n, log)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		results = append(results, r)
		if !cfg.json {
			writeRun(out, r)
		}
	}
	if cfg.json {
		return writeJSON(out, results)
	}
	writeSummary(out, results)
	return nil
}
