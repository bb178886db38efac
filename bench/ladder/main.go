package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/canopylive/canopy/internal/benchutil"
	"github.com/canopylive/canopy/transcode"
)

// config is the command line.
type config struct {
	duration    time.Duration
	keep        string
	passthrough bool
	preset      string
	threads     int
	runs        int
	ffmpeg      string
	timeout     time.Duration
	verbose     bool
}

// bench is what every run shares.
type bench struct {
	ffmpeg  string
	ap      transcode.ArgsParams // the planned ladder
	args    []string             // transcode.BuildArgs(ap)
	dir     string               // scratch directory (ffmpeg logs, bare outputs)
	srcPath string
	flv     []byte // the source file, in memory
	src     sourceInfo
	log     *slog.Logger
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "ladder:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	err = run(ctx, cfg, os.Stdout)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ladder:", err)
		os.Exit(1)
	}
}

func parseFlags(argv []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("ladder", flag.ContinueOnError)
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "length of the generated source")
	fs.StringVar(&c.keep, "keep", "", "keep the source FLV at this path, and reuse it if it exists (default: generate into a temporary directory)")
	fs.BoolVar(&c.passthrough, "passthrough", true, "copy the source as the top rung instead of encoding a 1080p rung")
	fs.StringVar(&c.preset, "preset", transcode.DefaultPreset, "x264 preset of the ladder")
	fs.IntVar(&c.threads, "threads", 0, "x264 -threads per rung (0 = ffmpeg default)")
	fs.IntVar(&c.runs, "runs", 1, "number of bare+canopy pairs")
	fs.StringVar(&c.ffmpeg, "ffmpeg", "ffmpeg", "ffmpeg executable")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.BoolVar(&c.verbose, "v", false, "log the transcoder's info and debug messages")
	if err := fs.Parse(argv); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.duration < time.Second || c.duration > time.Hour:
		return c, fmt.Errorf("-duration %v: want 1s..1h", c.duration)
	case c.runs < 1:
		return c, fmt.Errorf("-runs %d: want at least 1", c.runs)
	case c.timeout <= 0:
		return c, fmt.Errorf("-timeout %v: want > 0", c.timeout)
	}
	return c, nil
}

func run(ctx context.Context, cfg config, w io.Writer) (err error) {
	ffmpeg, err := exec.LookPath(cfg.ffmpeg)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "canopy-bench-ladder-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	b := bench{ffmpeg: ffmpeg, dir: dir, log: newLogger(cfg.verbose)}
	fmt.Fprintf(w, "machine: %d cores (GOMAXPROCS %d), CPU %q, %s, %s/%s, load average %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel(), ffmpegVersion(ctx, ffmpeg), runtime.GOOS, runtime.GOARCH, benchutil.LoadAvg()) // other work on the machine slows both runs and shows here

	b.srcPath = filepath.Join(dir, "source.flv")
	if cfg.keep != "" {
		b.srcPath = cfg.keep
	}
	t0 := time.Now()
	generated, err := ensureSource(ctx, ffmpeg, b.srcPath, cfg.duration, cfg.keep != "")
	if err != nil {
		return err
	}
	if b.flv, err = os.ReadFile(b.srcPath); err != nil {
		return err
	}
	if b.src, err = probeSource(b.flv); err != nil {
		return err
	}
	how := fmt.Sprintf("generated in %.1f s", time.Since(t0).Seconds())
	if !generated {
		how = "reused (-keep)"
	}
	fmt.Fprintf(w, "source: %s, %dx%d@%g, audio %v, %d frames = %.3f s, %.1f MB (%s)\n",
		b.srcPath, b.src.Width, b.src.Height, b.src.FPS, b.src.HasAudio, b.src.VideoFrames,
		b.src.Duration.Seconds(), float64(b.src.Bytes)/1e6, how)

	rungs, err := transcode.Plan(transcode.DefaultLadder(), b.src.Source, cfg.passthrough)
	if err != nil {
		return err
	}
	b.ap = transcode.ArgsParams{
		Rungs: rungs, Source: b.src.Source, SegmentDuration: transcode.DefaultSegmentDuration,
		Preset: cfg.preset, Threads: cfg.threads,
	}
	if b.args, err = transcode.BuildArgs(b.ap); err != nil {
		return err
	}
	bareArgv, err := bareArgs(b.args, b.srcPath, bareDest("OUT", rungs))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ladder: %s (passthrough %v, preset %s)\n", describe(rungs), cfg.passthrough, cfg.preset)
	fmt.Fprintf(w, "canopy argv: ffmpeg %s\n", shellJoin(b.args))
	fmt.Fprintf(w, "bare argv (OUT = a fresh temporary directory per run): ffmpeg %s\n\n", shellJoin(bareArgv))

	var results []result
	for n := 1; n <= cfg.runs; n++ {
		for _, f := range []func(context.Context, bench, int) (result, error){runBare, runCanopy} {
			r, err := f(ctx, b, n)
			if err != nil {
				return fmt.Errorf("run %d %s: %w", n, r.kind, err)
			}
			results = append(results, r)
		}
	}
	printTable(w, results, b.src.Duration)
	fmt.Fprintln(w)
	printVerdict(w, results, b.src.Duration, runtime.NumCPU())
	return nil
}

func newLogger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// describe lists the rungs as name:WxH@kb/s.
func describe(rungs []transcode.Rung) string {
	parts := make([]string, len(rungs))
	for i, r := range rungs {
		if r.Passthrough {
			parts[i] = fmt.Sprintf("%s:%dx%d copy", r.Name, r.Width, r.Height)
		} else {
			parts[i] = fmt.Sprintf("%s:%dx%d@%dk", r.Name, r.Width, r.Height, r.VideoBitrate/1000)
		}
	}
	return strings.Join(parts, ", ")
}

// cpuModel is the first "model name" of /proc/cpuinfo ("unknown" elsewhere).
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// ffmpegVersion is the first line of `ffmpeg -version`.
func ffmpegVersion(ctx context.Context, ffmpeg string) string {
	out, err := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-version").Output()
	if err != nil {
		return "ffmpeg version unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	if i := strings.Index(line, " Copyright"); i > 0 {
		line = line[:i]
	}
	return line
}
