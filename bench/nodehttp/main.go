package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/canopylive/canopy/internal/benchutil"
)

// config is the command line.
type config struct {
	count, size, small   int
	duration, warmup     time.Duration
	connections, threads int
	procs, runs          int
	target               float64
	nginx, wrk           string
	only                 []string
	json                 bool
	timeout              time.Duration
}

var (
	errFlags = errors.New("bad flags")
	errSize  = benchutil.ErrSize
	errTool  = errors.New("missing tool")
)

func main() {
	benchutil.Main("nodehttp", parseFlags, func(c config) time.Duration { return c.timeout },
		func(ctx context.Context, c config) error { return run(ctx, c, os.Stdout, os.Stderr) })
}

func parseFlags(argv []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("nodehttp", flag.ContinueOnError)
	fs.SetOutput(out)
	size := fs.String("size", "1MiB", "bytes per media segment (suffixes KiB, MiB)")
	small := fs.String("small", "4KiB", "bytes of the small segment")
	only := fs.String("cases", "segment,small,playlist", "cases to run: segment, small, playlist")
	fs.IntVar(&c.count, "count", 20, "media segments published (the last one is benchmarked)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "wrk -d per server and case (whole seconds)")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "untimed wrk run per server and case before measuring (0: none)")
	fs.IntVar(&c.connections, "connections", 32, "wrk -c")
	fs.IntVar(&c.threads, "threads", 2, "wrk -t")
	fs.IntVar(&c.procs, "procs", 2, "nginx worker_processes and this process's GOMAXPROCS")
	fs.IntVar(&c.runs, "runs", 1, "measurements per server and case, alternating which server goes first")
	fs.Float64Var(&c.target, "target", 0.8, "PASS when node/nginx requests/s ≥ this")
	fs.StringVar(&c.nginx, "nginx", "nginx", "nginx executable")
	fs.StringVar(&c.wrk, "wrk", "wrk", "wrk executable")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON instead of tables")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "give up after this long")
	if err := fs.Parse(argv); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("%w: unexpected arguments %q", errFlags, fs.Args())
	}
	var err error
	if c.size, err = parseSize(*size); err != nil {
		return c, err
	}
	if c.small, err = parseSize(*small); err != nil {
		return c, err
	}
	for n := range strings.SplitSeq(*only, ",") {
		n = strings.TrimSpace(n)
		if n != "segment" && n != "small" && n != "playlist" {
			return c, fmt.Errorf("%w: -cases: unknown case %q", errFlags, n)
		}
		c.only = append(c.only, n)
	}
	if c.count < 1 || c.connections < 1 || c.threads < 1 || c.threads > c.connections || c.procs < 1 || c.runs < 1 || c.duration < time.Second ||
		(c.warmup != 0 && c.warmup < time.Second) {
		return c, fmt.Errorf("%w: -count, -connections, -threads (≤ -connections), -procs, -runs must be ≥ 1, -duration ≥ 1s, -warmup 0 or ≥ 1s", errFlags)
	}
	return c, nil
}

// parseSize parses a byte count with an optional KiB/MiB/KB/MB suffix.
func parseSize(s string) (int, error) { return benchutil.ParseSize(s, 64<<20) }

// run sets up both servers and measures every case.
func run(ctx context.Context, cfg config, out, errOut io.Writer) error {
	for _, bin := range []string{cfg.nginx, cfg.wrk} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%w: %s (apt-get install -y nginx wrk): %w", errTool, bin, err)
		}
	}
	runtime.GOMAXPROCS(cfg.procs)
	ns, err := startNode(ctx, cfg.count, cfg.size, cfg.small)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	defer ns.Close()
	cases, err := ns.cases(ctx, cfg.count)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	dir, err := os.MkdirTemp("", "canopy-nodehttp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	docroot := dir + "/www"
	if err := os.MkdirAll(docroot, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // nginx's workers traverse it
		return err
	}
	if err := writeDocroot(docroot, cases); err != nil {
		return err
	}
	ng, err := startNginx(ctx, cfg.nginx, dir, docroot, cfg.procs, cases[0].Path)
	if err != nil {
		return err
	}
	defer ng.Close()

	var rows []row
	for _, c := range cases {
		if !slices.Contains(cfg.only, c.Name) {
			continue
		}
		servers := map[string]string{"node": "http://" + ns.addr + c.Path, "nginx": "http://" + ng.addr + c.Path}
		if err := checkSame(ctx, c, servers["node"], servers["nginx"]); err != nil {
			return err
		}
		// An untimed warm-up of each server (Go's heap and goroutine
		// stacks, nginx's workers, TCP buffers, the page cache), so the
		// first measured run is not a cold start.
		if cfg.warmup > 0 {
			for _, srv := range []string{"node", "nginx"} {
				fmt.Fprintf(errOut, "nodehttp: %s on %s, warm-up ...\n", c.Name, srv)
				if _, err := runWrk(ctx, cfg.wrk, wrkArgs(cfg.threads, cfg.connections, cfg.warmup, servers[srv])); err != nil {
					return err
				}
			}
		}
		for i := range cfg.runs {
			order := []string{"node", "nginx"}
			if i%2 == 1 {
				order = []string{"nginx", "node"}
			}
			for _, srv := range order {
				fmt.Fprintf(errOut, "nodehttp: %s on %s, run %d ...\n", c.Name, srv, i+1)
				w, err := runWrk(ctx, cfg.wrk, wrkArgs(cfg.threads, cfg.connections, cfg.duration, servers[srv]))
				if err != nil {
					return err
				}
				rows = append(rows, newRow(c, srv, i+1, w))
			}
		}
	}
	sums := summarize(rows, cfg.target)
	if cfg.json {
		return writeJSON(out, report{Config: jsonConfig(cfg), Rows: rows, Cases: sums})
	}
	writeTable(out, rows)
	fmt.Fprintln(out)
	for _, s := range sums {
		fmt.Fprintln(out, summaryLine(s))
	}
	return nil
}
