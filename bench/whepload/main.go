package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/canopylive/canopy/internal/benchutil"
	"github.com/canopylive/canopy/sfu"
)

// config is the command line.
type config struct {
	viewers   int
	dialBatch int
	warmup    time.Duration
	window    time.Duration
	bitrate   int // bits per second
	timeout   time.Duration
	cpuprof   string
	bwe       bool // the sfu estimates each viewer's bandwidth (GCC) from the viewers' transport-cc feedback

	loadClient string // internal: run as the load client against this WHEP endpoint
}

var errFlags = errors.New("bad flags")

func main() {
	benchutil.Main("whepload", parseFlags, func(c config) time.Duration { return c.timeout },
		func(ctx context.Context, c config) error {
			if c.loadClient != "" {
				return runLoadClient(ctx, c, os.Stdin, os.Stdout)
			}
			return run(ctx, c, os.Args[1:], os.Stdout)
		})
}

func parseFlags(argv []string, out io.Writer) (config, error) {
	c := config{bitrate: 2_500_000}
	fs := flag.NewFlagSet("whepload", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&c.viewers, "viewers", 200, "WHEP viewers (pion PeerConnections in the load client)")
	fs.IntVar(&c.dialBatch, "dial-batch", 20, "viewers dialling at once")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "run this long with every viewer receiving before measuring")
	fs.DurationVar(&c.window, "window", 20*time.Second, "measure over this long")
	fs.Func("bitrate", "video bitrate in bit/s, with an optional k or M suffix (default 2.5M)", func(s string) error {
		b, err := parseBitrate(s)
		c.bitrate = b
		return err
	})
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.BoolVar(&c.bwe, "bwe", true, "bandwidth estimation as in production: viewers send transport-cc feedback, the sfu runs GCC per viewer; false measures without both")
	fs.StringVar(&c.cpuprof, "cpuprofile", "", "write a CPU profile of the node over the measurement window to this file")
	fs.StringVar(&c.loadClient, "load-client", "", "internal: be the load client (child process) for this WHEP endpoint")
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: %w", errFlags, err)
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("%w: unexpected arguments %q", errFlags, fs.Args())
	case c.viewers < 1 || c.viewers > 5000:
		return c, fmt.Errorf("%w: -viewers must be 1..5000", errFlags)
	case c.dialBatch < 1 || c.dialBatch > 1000:
		return c, fmt.Errorf("%w: -dial-batch must be 1..1000", errFlags)
	case c.warmup < 0:
		return c, fmt.Errorf("%w: -warmup must not be negative", errFlags)
	case c.window < 100*time.Millisecond:
		return c, fmt.Errorf("%w: -window must be at least 100ms", errFlags)
	case c.timeout <= c.warmup+c.window:
		return c, fmt.Errorf("%w: -timeout must be longer than -warmup plus -window", errFlags)
	}
	return c, nil
}

// parseBitrate reads bits per second such as "2.5M", "800k" or "2500000",
// between 100 kbit/s and 100 Mbit/s.
func parseBitrate(s string) (int, error) {
	num, mult := strings.TrimSpace(s), 1.0
	if v, ok := strings.CutSuffix(num, "M"); ok {
		num, mult = v, 1e6
	} else if v, ok := strings.CutSuffix(num, "k"); ok {
		num, mult = v, 1e3
	}
	f, err := strconv.ParseFloat(num, 64)
	b := f * mult
	if err != nil || b < 100e3 || b > 100e6 {
		return 0, fmt.Errorf("%w: bitrate %q (100k to 100M bit/s)", errFlags, s)
	}
	return int(b), nil
}

// sample is what the command reads at each end of the window.
type sample struct {
	at           time.Time
	cpu          time.Duration // this process (the node)
	childCPU     time.Duration // the load client
	video, audio sfu.TrackStats
	machine      cpuTicks
	udp          udpCounters
	client       snapshot
}

// takeSample reads the counters while the feeder pauses before a keyframe.
func takeSample(ctx context.Context, n *node, lp *loadProc) (sample, error) {
	var s sample
	var errs [5]error
	err := n.atKeyframe(ctx, func() {
		s.at = time.Now()
		s.cpu, errs[0] = benchutil.CPUSelf()
		s.childCPU, errs[1] = benchutil.CPUOf(strconv.Itoa(lp.pid()))
		s.machine, errs[2] = machineCPU()
		s.udp, errs[3] = machineUDP()
		s.video, s.audio = n.video.Stats(), n.audio.Stats()
		s.client, errs[4] = lp.mark(ctx)
	})
	return s, errors.Join(append(errs[:], err)...)
}

// wait waits d or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func run(ctx context.Context, cfg config, args []string, out io.Writer) error {
	if err := raiseFDLimit(4*cfg.viewers + 256); err != nil {
		return err
	}
	loadBefore := benchutil.LoadAvg()
	key, p := frameSizes(cfg.bitrate)
	fmt.Fprintf(out, "command: whepload %s(effective: -viewers %d -dial-batch %d -warmup %v -window %v -bitrate %d -timeout %v)\n",
		strings.Join(append(args, ""), " "), cfg.viewers, cfg.dialBatch, cfg.warmup, cfg.window, cfg.bitrate, cfg.timeout)
	fmt.Fprintf(out, "whepload: %d WHEP viewers of one stream on loopback: H.264 42e01f 720p30-like at %.2f Mbit/s "+
		"(keyframe %d B every %d frames, P-frames ~%d B, payloads <= %d B) + Opus 20 ms %d B; "+
		"warm-up %v, window %v; GOMAXPROCS=%d, %d CPUs\n",
		cfg.viewers, float64(cfg.bitrate)/1e6, key, gopFrames, p, maxPayload, opusBytes,
		cfg.warmup, cfg.window, runtime.GOMAXPROCS(0), runtime.NumCPU())

	rssBase, err := benchutil.RSSOf("self")
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := startNode(cfg, log)
	if err != nil {
		return err
	}
	res, err := measure(ctx, cfg, n)
	if cerr := n.close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	res.loadBefore = loadBefore
	res.rssBase = rssBase
	report(out, cfg, res)
	if p := problems(cfg, res); len(p) > 0 {
		return fmt.Errorf("%w: %s", errInvalid, strings.Join(p, "; "))
	}
	return nil
}

var errInvalid = errors.New("the run is not valid")

// result is everything report prints.
type result struct {
	ready      readyMsg
	m          measurement
	loadBefore string
	loadEnd    string
	rssBase    int64 // before the node started
	rss        int64 // at the end of the window
	keyReqs    uint64
}

// measure connects the viewers, warms up and measures one window.
func measure(ctx context.Context, cfg config, n *node) (result, error) {
	var res result
	lp, err := startLoadClient(ctx, cfg, n.url)
	if err != nil {
		return res, err
	}
	defer lp.stop(30 * time.Second)
	if res.ready, err = lp.ready(ctx); err != nil {
		return res, err
	}
	if res.ready.Receiving == 0 {
		return res, fmt.Errorf("no viewer received video (%d dialled, %d failed: %s)",
			res.ready.Dialled, res.ready.Failed, strings.Join(res.ready.Errors, "; "))
	}
	if err := wait(ctx, cfg.warmup); err != nil {
		return res, err
	}
	s0, err := takeSample(ctx, n, lp)
	if err != nil {
		return res, err
	}
	stopProfile, err := benchutil.StartCPUProfile(cfg.cpuprof)
	if err != nil {
		return res, err
	}
	var s1 sample
	if err = wait(ctx, cfg.window); err == nil {
		s1, err = takeSample(ctx, n, lp)
	}
	stopProfile()
	if err != nil {
		return res, err
	}
	res.loadEnd = benchutil.LoadAvg()
	if res.rss, err = benchutil.RSSOf("self"); err != nil {
		return res, err
	}
	if !n.feeding() {
		return res, errors.New("the feeder stopped during the run")
	}
	res.m = newMeasurement(s0, s1, runtime.NumCPU())
	res.keyReqs = s1.video.KeyframeRequests - s0.video.KeyframeRequests
	return res, nil
}
