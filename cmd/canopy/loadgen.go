package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/internal/benchutil"
	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/loadgen"
	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/internal/playrules"
	"github.com/canopylive/canopy/internal/testsrc"
	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/proto"
)

// loadgenFlags are `canopy loadgen`'s settings.
type loadgenFlags struct {
	target, origin, stream, rendition, mode string
	viewers                                 int
	duration, ramp                          time.Duration
	churn, nat                              float64
	uploadKbps                              int
	peers, offers                           int
	jsonOut, chartsDir, chartFormat         string
	local, baseline                         bool
	relays, relayPeers                      int
	demoSize, pages                         string
	cpuProfile                              string
}

func parseLoadgenFlags(args []string, stderr io.Writer) (loadgenFlags, error) {
	f := loadgenFlags{}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.target, "target", "", "page server URL(s) viewers load from, comma separated (origin or relay nodes)")
	fs.StringVar(&f.origin, "origin", "", "origin URL whose /metrics give its egress (default: the first -target)")
	fs.StringVar(&f.stream, "stream", devStream, "stream ID")
	fs.StringVar(&f.rendition, "rendition", "", "rendition to play (default: the lowest bandwidth)")
	fs.StringVar(&f.mode, "mode", string(playrules.Normal), "latency mode: normal or fast")
	fs.IntVar(&f.viewers, "viewers", 300, "concurrent viewers")
	fs.DurationVar(&f.duration, "duration", 2*time.Minute, "length of each run")
	fs.DurationVar(&f.ramp, "ramp", 30*time.Second, "viewers start evenly over this time")
	fs.Float64Var(&f.churn, "churn", 0.2, "share of viewers that leave (and are replaced) per minute")
	fs.Float64Var(&f.nat, "nat", 0.22, "share of viewers that cannot connect to other viewers (relay nodes stay reachable)")
	fs.IntVar(&f.uploadKbps, "upload", 1000, "upload cap per viewer in kbit/s (0: none)")
	fs.IntVar(&f.peers, "peers", 6, "peer connections per viewer at most (open or connecting)")
	fs.IntVar(&f.offers, "offers", 5, "WebRTC offers per tracker announce (p2p-media-loader: 5)")
	fs.StringVar(&f.jsonOut, "json", "", "write the result as JSON to this file")
	fs.StringVar(&f.chartsDir, "charts", "", "write charts into this directory")
	fs.StringVar(&f.chartFormat, "chart-format", "svg", "chart format: svg or png")
	fs.BoolVar(&f.local, "local", false, "start origin, tracker, relay nodes and the ffmpeg demo stream in this process")
	fs.BoolVar(&f.baseline, "baseline", true, "also run the same viewers HTTP-only against the origin (P2P off) and print the egress ratio")
	fs.IntVar(&f.relays, "relays", 4, "-local: relay nodes")
	fs.IntVar(&f.relayPeers, "relay-peers", 50, "-local: browser connections per relay super-peer")
	fs.StringVar(&f.demoSize, "demo-size", "854x480", "-local: the demo source's frame size (the ladder never upscales)")
	fs.StringVar(&f.pages, "pages", "relays", "-local: page servers of the P2P run: relays, origin or all")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the P2P run (stack and viewers) to this file")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	switch {
	case !f.local && f.target == "":
		return f, errors.New("loadgen: give -target URL or -local")
	case f.viewers <= 0 || f.duration <= 0 || f.ramp < 0:
		return f, errors.New("loadgen: -viewers and -duration must be positive, -ramp not negative")
	case f.churn < 0 || f.nat < 0 || f.nat > 1 || f.uploadKbps < 0:
		return f, errors.New("loadgen: -churn, -nat and -upload out of range")
	case !playrules.Mode(f.mode).Valid():
		return f, fmt.Errorf("loadgen: -mode %q: want normal or fast", f.mode)
	case f.chartFormat != "svg" && f.chartFormat != "png":
		return f, fmt.Errorf("loadgen: -chart-format %q: want svg or png", f.chartFormat)
	case f.pages != "relays" && f.pages != "origin" && f.pages != "all":
		return f, fmt.Errorf("loadgen: -pages %q: want relays, origin or all", f.pages)
	case f.local && f.relays < 1:
		return f, errors.New("loadgen: -relays must be at least 1")
	}
	return f, nil
}

// loadgenReport is the JSON written by -json.
type loadgenReport struct {
	P2P         loadgen.Result  `json:"p2p"`
	HTTPOnly    *loadgen.Result `json:"http_only,omitempty"`
	EgressRatio float64         `json:"origin_egress_ratio,omitempty"` // HTTP-only / P2P, origin /metrics (HTTP + relay tree)
	// EdgeLags (-local) compares when each page server listed new
	// segments of the played rendition during the P2P run, against the
	// origin (the first entry).
	EdgeLags []loadgen.EdgeLag `json:"edge_lags,omitempty"`
	CPU      cpuInfo           `json:"cpu"`
}

// runLoadgen is `canopy loadgen`.
func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseLoadgenFlags(args, stderr)
	if err != nil {
		return err
	}
	// Each viewer holds sockets for HTTP, the tracker and its peers.
	if err := raiseOpenFiles(uint64(f.viewers)*(uint64(f.peers)+6) + 4096); err != nil {
		fmt.Fprintln(stderr, "loadgen: warning:", err)
	}
	var pagesP2P, pagesHTTP []string
	var originURL string
	var lstack *loadStack
	if f.local {
		lstack, err = startLoadStack(ctx, f, stdout)
		if err != nil {
			return err
		}
		defer lstack.Close()
		originURL = lstack.origin
		pagesHTTP = []string{lstack.origin}
		switch f.pages {
		case "relays":
			pagesP2P = lstack.relays
		case "origin":
			pagesP2P = []string{lstack.origin}
		default:
			pagesP2P = append([]string{lstack.origin}, lstack.relays...)
		}
	} else {
		pagesP2P = strings.Split(f.target, ",")
		originURL = f.origin
		if originURL == "" {
			originURL = pagesP2P[0]
		}
		pagesHTTP = []string{originURL}
	}
	sh, err := loadgen.NewShared(loadgen.SharedParams{Origins: []string{originURL}, LoopbackOnly: f.local})
	if err != nil {
		return err
	}
	defer sh.Close()
	egress := func(ctx context.Context) (loadgen.Egress, error) {
		return loadgen.ScrapeEgress(ctx, sh.HTTPClient(), strings.TrimRight(originURL, "/")+"/metrics")
	}
	tty := isTTY(stdout)
	params := loadgen.RunParams{
		Shared: sh, Stream: f.stream, Rendition: f.rendition, Mode: playrules.Mode(f.mode),
		Viewers: f.viewers, Duration: f.duration, Ramp: f.ramp, Churn: f.churn, NATShare: f.nat,
		UploadBps: int64(f.uploadKbps) * 1000 / 8, MaxPeers: f.peers, Offers: f.offers,
		Egress: egress, Progress: stdout, TTY: tty,
	}
	rep := loadgenReport{}
	cpu0 := readCPU()
	p := params
	p.Label, p.Pages, p.P2P = "p2p", pagesP2P, true
	fmt.Fprintf(stdout, "loadgen: %d viewers for %s (ramp %s, churn %.0f%%/min, %.0f%% behind NAT, upload cap %d kbit/s, ≤%d peers, %d offers) from %s\n",
		f.viewers, f.duration, f.ramp, 100*f.churn, 100*f.nat, f.uploadKbps, f.peers, f.offers, strings.Join(pagesP2P, ", "))
	var watch *loadgen.EdgeWatch
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	if lstack != nil {
		watch = loadgen.NewEdgeWatch(sh.HTTPClient(), append([]string{lstack.origin}, lstack.relays...), 100*time.Millisecond)
		go func() {
			defer close(watched)
			watch.Run(wctx, f.stream)
		}()
	} else {
		close(watched)
	}
	stopProfile, err := benchutil.StartCPUProfile(f.cpuProfile)
	if err != nil {
		stopWatch()
		return err
	}
	res, err := loadgen.Run(ctx, p)
	stopProfile()
	stopWatch()
	<-watched
	if err != nil {
		return err
	}
	rep.CPU = readCPU().since(cpu0)
	res.CPU = rep.CPU.Self
	rep.P2P = res
	loadgen.PrintSummary(stdout, res)
	if watch != nil {
		rep.EdgeLags = watch.Lags()
		printEdgeLags(stdout, rep.EdgeLags)
		printTreeHealth(ctx, stdout, sh.HTTPClient(), lstack)
	}
	fmt.Fprintf(stdout, "  CPU: %s\n", rep.CPU)
	if f.baseline {
		if lstack != nil {
			lstack.stopRelays() // a plain HTTP origin: no relay tree either
		}
		cpu1 := readCPU()
		p := params
		p.Label, p.Pages, p.P2P, p.NATShare = "http-only", pagesHTTP, false, 0
		fmt.Fprintf(stdout, "loadgen: the same viewers HTTP-only against %s\n", pagesHTTP[0])
		hres, err := loadgen.Run(ctx, p)
		if err != nil {
			return err
		}
		hcpu := readCPU().since(cpu1)
		hres.CPU = hcpu.Self
		rep.HTTPOnly = &hres
		loadgen.PrintSummary(stdout, hres)
		fmt.Fprintf(stdout, "  CPU: %s\n", hcpu)
		printEgressRatio(stdout, &rep, res, hres)
	}
	if f.jsonOut != "" {
		if err := loadgen.WriteJSON(f.jsonOut, rep); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "result:", f.jsonOut)
	}
	if f.chartsDir != "" {
		runs := []loadgen.Result{rep.P2P}
		if rep.HTTPOnly != nil {
			runs = append(runs, *rep.HTTPOnly)
		}
		files, err := loadgen.WriteCharts(f.chartsDir, "."+f.chartFormat, runs...)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "charts:", strings.Join(files, ", "))
	}
	return nil
}

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func raiseOpenFiles(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= need {
		return nil
	}
	lim.Cur = min(need, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raising the open-file limit: %w", err)
	}
	if lim.Cur < need {
		return fmt.Errorf("open-file limit %d is under the %d this run may need", lim.Cur, need)
	}
	return nil
}

// loadStack is the in-process deployment of -local.
type loadStack struct {
	tr     *devTracker
	st     *originStack
	nodes  *devRelays
	origin string
	relays []string
	dir    string
	logf   *os.File
}

func startLoadStack(ctx context.Context, f loadgenFlags, stdout io.Writer) (*loadStack, error) {
	w, h, err := parseFrameSize(f.demoSize)
	if err != nil {
		return nil, fmt.Errorf("loadgen: -demo-size: %w", err)
	}
	dir, err := os.MkdirTemp("", "canopy-loadgen-")
	if err != nil {
		return nil, err
	}
	ls := &loadStack{dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	ls.logf, err = os.Create(filepath.Join(dir, "logs", "stack.log"))
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Origin.HTTP, cfg.Origin.RTMP = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Origin.Transcode.Passthrough = true
	cfg.Origin.Transcode.Preset = "ultrafast"
	cfg.Origin.P2P = config.P2P{Listen: loopbackP2P()}
	cfg.Origin.RelayChildren = max(cfg.Origin.RelayChildren, f.relays)
	cfg.Node.MaxBrowsers = f.relayPeers
	var kb [16]byte
	_, _ = rand.Read(kb[:])
	key := hex.EncodeToString(kb[:])
	cfg.Origin.Streams = []config.Stream{{ID: f.stream, Key: key}}
	log := slog.New(slog.NewTextHandler(ls.logf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if ls.tr, err = startDevTracker(ctx, cfg, log); err != nil {
		return nil, errors.Join(err, ls.Close())
	}
	if ls.st, err = startOriginStack(ctx, cfg, ls.tr.peers(), ls.tr.wt, nil, log, newRegistry()); err != nil {
		return nil, errors.Join(err, ls.Close())
	}
	ls.origin = localURL("http", ls.st.o.HTTPAddr())
	if ls.nodes, err = startLoadRelays(ctx, cfg, ls.tr, f.stream, publicKey(mustKey(loadOriginKey(cfg))), f.relays, log); err != nil {
		return nil, errors.Join(err, ls.Close())
	}
	ls.relays = ls.nodes.urls
	rtmpURL := localURL("rtmp", ls.st.o.RTMPAddr()) + "/live/" + key
	go runDemo(ctx, testsrc.Params{FFmpeg: cfg.Origin.Transcode.FFmpeg, URL: rtmpURL,
		Width: w, Height: h, Audio: true, Realtime: true, Stderr: ls.logf}, log)
	fmt.Fprintf(stdout, "loadgen: local stack: origin %s, %d relay nodes, demo %s, logs in %s\n",
		ls.origin, len(ls.relays), f.demoSize, filepath.Join(dir, "logs"))
	return ls, waitLive(ctx, append([]string{ls.origin}, ls.relays...), f.stream)
}

func mustKey(k ed25519.PrivateKey, err error) ed25519.PrivateKey {
	if err != nil {
		return make(ed25519.PrivateKey, ed25519.PrivateKeySize)
	}
	return k
}

// waitLive waits until every page server lists the stream with at least
// four segments in its lowest rendition.
func waitLive(ctx context.Context, pages []string, stream string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, p := range pages {
		for {
			res, err := http.Get(p + "/live/" + stream + "/master.m3u8")
			if err == nil {
				_ = res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("loadgen: %s does not serve %q yet: %w", p, stream, ctx.Err())
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	// Four segments: the player's initialLiveManifestSize in normal mode.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(8 * time.Second):
	}
	return nil
}

// startLoadRelays starts relay nodes as `canopy dev` does (devparts.go),
// without chat and low latency, with loopback-only ICE for the super-peers.
func startLoadRelays(ctx context.Context, cfg config.Config, tr *devTracker, stream string, key ed25519.PublicKey, n int, log *slog.Logger) (*devRelays, error) {
	d := &devRelays{}
	browserTrackers := []string{tr.wsURL()}
	for i := range n {
		dir := filepath.Join(cfg.DataDir, fmt.Sprintf("node%d", i+1))
		h, err := p2p.NewHost(p2p.HostParams{IdentityFile: filepath.Join(dir, "node.p2p.key"), Listen: loopbackP2P()})
		if err != nil {
			return nil, errors.Join(err, d.Close())
		}
		d.hosts = append(d.hosts, h)
		nd, err := node.New(node.Params{Host: h, OriginKey: key, Trackers: tr.peers(), Streams: []string{stream},
			DataDir: dir, MaxChildren: cfg.Node.MaxChildren, UploadKbps: int(cfg.Node.UploadMbps * 1000), Window: cfg.Node.Window,
			Logger: log.With("component", "node", "node", i+1), Registry: prometheus.NewRegistry()})
		if err != nil {
			return nil, errors.Join(err, d.Close())
		}
		if err := nd.Start(ctx); err != nil {
			return nil, errors.Join(err, d.Close())
		}
		d.nodes = append(d.nodes, nd)
		sp, err := startSuperPeer(ctx, nd, browserTrackers, cfg.Node.MaxBrowsersOrDerived(),
			superpeer.ICE{LoopbackOnly: true}, log.With("component", "superpeer", "node", i+1), nil)
		if err != nil {
			return nil, errors.Join(err, d.Close())
		}
		d.sps = append(d.sps, sp)
		routes, err := webRoutes(log, func() string { return proto.EncodePublicKey(key) }, browserTrackers, nil)
		if err != nil {
			return nil, errors.Join(err, d.Close())
		}
		mux := http.NewServeMux()
		mux.Handle("/", nd.Handler())
		routes(mux)
		srv, addr, err := serveHTTP("127.0.0.1:0", mux, log, node.TuneServer)
		if err != nil {
			return nil, errors.Join(err, d.Close())
		}
		d.srvs = append(d.srvs, srv)
		d.urls = append(d.urls, localURL("http", addr))
	}
	return d, nil
}

func (ls *loadStack) stopRelays() {
	if ls.nodes != nil {
		_ = ls.nodes.Close()
		ls.nodes = nil
	}
}

func (ls *loadStack) Close() error {
	var errs []error
	if ls.nodes != nil {
		errs = append(errs, ls.nodes.Close())
	}
	if ls.st != nil {
		errs = append(errs, ls.st.Close())
	}
	if ls.tr != nil {
		errs = append(errs, ls.tr.Close())
	}
	if ls.logf != nil {
		errs = append(errs, ls.logf.Close())
	}
	return errors.Join(errs...)
}

// cpuInfo is CPU time used over a run: by this process (stack and
// viewers), by its child processes (ffmpeg), and by the whole machine.
type cpuInfo struct {
	Self     time.Duration `json:"self_ns"`
	Children time.Duration `json:"children_ns"`
	Busy     time.Duration `json:"machine_busy_ns"`
	Wall     time.Duration `json:"wall_ns"`
	Cores    int           `json:"cores"`
}

func (c cpuInfo) String() string {
	w := c.Wall.Seconds()
	if w <= 0 {
		return "not measured"
	}
	return fmt.Sprintf("this process %.2f cores, its children (ffmpeg) %.2f cores, whole machine %.2f of %d cores busy (other work included), over %s",
		c.Self.Seconds()/w, c.Children.Seconds()/w, c.Busy.Seconds()/w, c.Cores, c.Wall.Round(time.Second))
}

func readCPU() cpuInfo {
	c := cpuInfo{Wall: time.Duration(time.Now().UnixNano()), Cores: runtime.NumCPU()}
	c.Self, _ = benchutil.CPUSelf()
	self := strconv.Itoa(os.Getpid())
	if ents, err := os.ReadDir("/proc"); err == nil {
		for _, e := range ents {
			stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			s := string(stat)
			i := strings.LastIndexByte(s, ')')
			if i < 0 {
				continue
			}
			if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == self {
				if d, err := benchutil.ParseStatCPU(stat); err == nil {
					c.Children += d
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		// cpu user nice system idle iowait irq softirq steal
		for i := 1; i < len(f) && i <= 8; i++ {
			if i == 4 || i == 5 {
				continue
			}
			n, _ := strconv.ParseInt(f[i], 10, 64)
			c.Busy += time.Duration(n) * (time.Second / 100)
		}
	}
	return c
}

// since is the CPU used between c0 and c (the children that ended in
// between are missed).
func (c cpuInfo) since(c0 cpuInfo) cpuInfo {
	return cpuInfo{Self: c.Self - c0.Self, Children: max(c.Children-c0.Children, 0), Busy: c.Busy - c0.Busy,
		Wall: c.Wall - c0.Wall, Cores: c.Cores}
}

// printEdgeLags prints how late the relay nodes listed new segments.
func printEdgeLags(w io.Writer, lags []loadgen.EdgeLag) {
	if len(lags) == 0 {
		return
	}
	o := lags[0]
	fmt.Fprintf(w, "  playlist edge: origin lists a segment %s after its end (p50; p95 %s)",
		o.ListedP50.Round(time.Millisecond), o.ListedP95.Round(time.Millisecond))
	for i, l := range lags[1:] {
		fmt.Fprintf(w, "; relay %d +%s (p95 +%s, max +%s, %d segs)", i+1,
			l.P50.Round(time.Millisecond), l.P95.Round(time.Millisecond), l.Max.Round(time.Millisecond), l.Segments)
	}
	fmt.Fprintln(w)
}

// printEgressRatio prints the origin's egress of both runs and their
// ratio: by its /metrics (HTTP and relay tree) when both runs read them,
// else by the viewers' count of origin HTTP bytes.
func printEgressRatio(w io.Writer, rep *loadgenReport, p2p, http loadgen.Result) {
	pe, he := p2p.OriginEgress, http.OriginEgress
	how := "origin /metrics"
	if pe < 0 || he < 0 {
		pe, he, how = p2p.OriginClient, http.OriginClient, "viewers' count of origin HTTP bytes, no relay tree"
	}
	if pe <= 0 {
		fmt.Fprintf(w, "origin egress (%s): HTTP-only %s vs P2P %s: ratio not defined\n", how, mibs(he), mibs(pe))
		return
	}
	rep.EgressRatio = float64(he) / float64(pe)
	fmt.Fprintf(w, "origin egress (%s): HTTP-only %s vs P2P %s (HTTP %s + relay tree %s): ratio %.1f×\n",
		how, mibs(he), mibs(pe), mibs(p2p.OriginParts.HTTP), mibs(p2p.OriginParts.Tree), rep.EgressRatio)
}

func mibs(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// printTreeHealth prints the relay tree's trouble counters (cumulative
// since the stack started): frames the root dropped for a slow child,
// resubscriptions after a parent skipped segments, re-attachments.
func printTreeHealth(ctx context.Context, w io.Writer, c *http.Client, ls *loadStack) {
	root, err := loadgen.ScrapeMetrics(ctx, c, ls.origin+"/metrics", "canopy_node_child_drops_total")
	if err != nil {
		fmt.Fprintln(w, "  relay tree: origin /metrics not read:", err)
		return
	}
	var skipped, reattach, drops int64
	for _, r := range ls.relays {
		v, err := loadgen.ScrapeMetrics(ctx, c, r+"/metrics", "canopy_node_skipped_received_total",
			"canopy_node_reattach_seconds_count", "canopy_node_child_drops_total")
		if err != nil {
			fmt.Fprintln(w, "  relay tree: relay /metrics not read:", err)
			return
		}
		skipped, reattach, drops = skipped+v[0], reattach+v[1], drops+v[2]
	}
	fmt.Fprintf(w, "  relay tree: root dropped %d frames for slow children; relays: %d skip notices received, %d re-attachments, %d frames dropped\n",
		root[0], skipped, reattach, drops)
}
