package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/canopylive/canopy/internal/benchutil"
)

// config is the command line.
type config struct {
	peers   int
	swarms  int
	rounds  int
	spread  time.Duration
	btDir   string
	script  string
	noNode  bool
	timeout time.Duration
	memprof string
	cpuprof string

	loadClient string // internal: run as the load client against this URL
}

var errFlags = errors.New("bad flags")

func main() {
	benchutil.Main("wstracker", parseFlags, func(c config) time.Duration { return c.timeout },
		func(ctx context.Context, c config) error {
			if c.loadClient != "" {
				return runLoadClient(ctx, c, os.Stdin, os.Stdout)
			}
			return run(ctx, c, os.Stdout)
		})
}

func parseFlags(argv []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("wstracker", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&c.peers, "peers", 5000, "WebSocket peers (one connection each)")
	fs.IntVar(&c.swarms, "swarms", 50, "swarms the peers are spread over")
	fs.IntVar(&c.rounds, "rounds", 3, "announces per peer")
	fs.DurationVar(&c.spread, "spread", 5*time.Second, "each round's announces are spread evenly over this")
	fs.StringVar(&c.btDir, "bittorrent-tracker", "web/node_modules/bittorrent-tracker", "bittorrent-tracker package directory")
	fs.StringVar(&c.script, "node-script", "bench/wstracker/nodetracker.mjs", "the node server script")
	fs.BoolVar(&c.noNode, "no-node", false, "skip the bittorrent-tracker comparison")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.StringVar(&c.loadClient, "load-client", "", "internal: be the load client (child process) for this tracker URL")
	fs.StringVar(&c.cpuprof, "cpuprofile", "", "write a CPU profile of the canopy run's announce rounds to this file")
	fs.StringVar(&c.memprof, "memprofile", "", "write a heap profile of the canopy run at its measurement point to this file")
	if err := fs.Parse(argv); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("%w: unexpected arguments %q", errFlags, fs.Args())
	case c.peers < 2 || c.peers > 100000:
		return c, fmt.Errorf("%w: -peers must be 2..100000", errFlags)
	case c.swarms < 1 || c.swarms > c.peers:
		return c, fmt.Errorf("%w: -swarms must be 1..peers", errFlags)
	case c.rounds < 1 || c.rounds > 100:
		return c, fmt.Errorf("%w: -rounds must be 1..100", errFlags)
	case c.spread < 0 || c.timeout <= 0:
		return c, fmt.Errorf("%w: -spread and -timeout must be positive", errFlags)
	}
	return c, nil
}

// phase is what one tracker's run measured.
type phase struct {
	name      string
	latencies []time.Duration // sorted
	counters  string
	mem       memDelta      // the tracker's process, peers connected and idle
	load      string        // the machine's load average while it ran
	cpu       time.Duration // CPU time the tracker used for the load
}

type memDelta struct{ heap, stack, rss int64 }

func (a memSnap) minus(b memSnap) memDelta {
	return memDelta{heap: int64(a.heap) - int64(b.heap), stack: int64(a.stack) - int64(b.stack), rss: a.rss - b.rss}
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	if err := raiseFDLimit(cfg.peers + 256); err != nil {
		return err
	}
	fmt.Fprintf(out, "wstracker: %d peers over %d swarms, %d announces each (1-2 offers, numwant 5), rounds spread over %v; GOMAXPROCS=%d, %d CPUs\n",
		cfg.peers, cfg.swarms, cfg.rounds, cfg.spread, runtime.GOMAXPROCS(0), runtime.NumCPU())

	var nodePhase *phase
	if cfg.noNode {
		fmt.Fprintln(out, "bittorrent-tracker: skipped (-no-node)")
	} else if n, err := startNodeTracker(ctx, abs(cfg.btDir), abs(cfg.script)); err != nil {
		fmt.Fprintf(out, "bittorrent-tracker: cannot run: %v\n", err)
	} else {
		nodePhase, err = runNode(ctx, cfg, n)
		n.stop()
		if err != nil {
			return fmt.Errorf("bittorrent-tracker run: %w", err)
		}
	}

	goPhase, stats, err := runGo(ctx, cfg)
	if err != nil {
		return fmt.Errorf("canopy tracker run: %w", err)
	}
	report(out, cfg, goPhase, nodePhase, stats)
	return nil
}

// runNode loads the node tracker and reads its RSS before and after.
func runNode(ctx context.Context, cfg config, n *nodeTracker) (*phase, error) {
	if err := n.gc(); err != nil {
		return nil, err
	}
	base, err := n.rss()
	if err != nil {
		return nil, err
	}
	pid := strconv.Itoa(n.cmd.Process.Pid)
	cpu0, err := benchutil.CPUOf(pid)
	if err != nil {
		return nil, err
	}
	load0 := benchutil.LoadAvg()
	lp, err := startLoadClient(ctx, cfg, n.url)
	if err != nil {
		return nil, err
	}
	defer lp.stop()
	lat, counters, err := lp.result(ctx)
	if err != nil {
		return nil, err
	}
	load := load0 + "-" + benchutil.LoadAvg()
	cpu1, err := benchutil.CPUOf(pid)
	if err != nil {
		return nil, err
	}
	if err := n.gc(); err != nil {
		return nil, err
	}
	after, err := n.rss()
	if err != nil {
		return nil, err
	}
	if len(lat) == 0 {
		return nil, errNoReplies
	}
	return &phase{name: "bittorrent-tracker 11.2.3 (node " + nodeVersion() + ")", latencies: lat,
		counters: counters, mem: memDelta{rss: after - base}, load: load, cpu: cpu1 - cpu0}, nil
}

// runGo loads Canopy's tracker, in this process, and reads this process's
// heap, stacks and RSS before and after.
func runGo(ctx context.Context, cfg config) (*phase, string, error) {
	base, err := selfMem()
	if err != nil {
		return nil, "", err
	}
	g, err := startGoTracker()
	if err != nil {
		return nil, "", err
	}
	defer g.close()
	stopProfile, err := benchutil.StartCPUProfile(cfg.cpuprof)
	if err != nil {
		return nil, "", err
	}
	load0, cpu0 := benchutil.LoadAvg(), cpuSelf()
	lp, err := startLoadClient(ctx, cfg, g.url)
	if err != nil {
		stopProfile()
		return nil, "", err
	}
	defer lp.stop()
	lat, counters, err := lp.result(ctx)
	stopProfile()
	load, cpu := load0+"-"+benchutil.LoadAvg(), cpuSelf()-cpu0
	if err != nil {
		return nil, "", err
	}
	after, err := selfMem()
	if err != nil {
		return nil, "", err
	}
	if cfg.memprof != "" {
		if err := writeHeapProfile(cfg.memprof); err != nil {
			return nil, "", err
		}
	}
	st := g.srv.Stats()
	stats := fmt.Sprintf("canopy tracker stats: %d connections, %d swarms, %d peers; %d announces, %d offers and %d answers relayed, %d errors, %d dropped",
		st.Connections, st.Swarms, st.Peers, st.Totals.Announces, st.Totals.OffersRelayed, st.Totals.AnswersRelayed,
		st.Totals.Errors, st.Totals.Dropped)
	if len(lat) == 0 {
		return nil, "", errNoReplies
	}
	return &phase{name: "canopy tracker/webtorrent (in-process)", latencies: lat, counters: counters,
		mem: after.minus(base), load: load, cpu: cpu}, stats, nil
}

func raiseFDLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= uint64(need) {
		return nil
	}
	lim.Cur = min(max(uint64(need), lim.Cur), lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raising the open-file limit: %w", err)
	}
	if lim.Cur < uint64(need) {
		return fmt.Errorf("open-file limit %d is under the %d this run needs", lim.Cur, need)
	}
	return nil
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
