package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/tracker"
)

func runTracker(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("tracker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := config.Parse(fs, args, getenv, &cfg, func(fs *flag.FlagSet, c *config.Config) {
		config.BindCommon(fs, c)
		config.BindTracker(fs, c)
	}); err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	h, err := p2p.NewHost(p2p.HostParams{IdentityFile: filepath.Join(cfg.DataDir, "tracker.p2p.key"),
		Listen: cfg.Tracker.P2P.Listen, NAT: cfg.Tracker.P2P.NAT})
	if err != nil {
		return err
	}
	defer h.Close()
	reg := newRegistry()
	tr, err := tracker.New(tracker.Params{Host: h, Logger: log.With("component", "tracker"), Registry: reg,
		HeartbeatTimeout: cfg.Tracker.HeartbeatTimeout})
	if err != nil {
		return err
	}
	if err := tr.Start(ctx); err != nil {
		return err
	}
	defer tr.Close()
	wt, err := newBrowserTracker(cfg.Tracker, log.With("component", "browser-tracker"), reg)
	if err != nil {
		return err
	}
	defer wt.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /tracker/stats", trackerStats(tr, wt))
	mux.Handle("GET /tracker/whep/{stream}", tr.WHEPHandler())
	mux.Handle("GET /tracker", wt)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv, addr, err := serveHTTP(cfg.Tracker.HTTP, mux, log, nil)
	if err != nil {
		return err
	}
	defer shutdown(srv)
	fmt.Fprintf(stdout, "Canopy tracker\n  stats: %s/tracker/stats\n  browsers: %s/tracker (WebSocket)\n  nodes join with --trackers %s\n",
		localURL("http", addr), localURL("ws", addr), strings.Join(peerAddrs(h), ","))
	<-ctx.Done()
	return nil
}

// serveHTTP listens on addr and serves h until shutdown. tune, when not
// nil, adjusts the server and its listener (node.TuneServer, for segments).
func serveHTTP(addr string, h http.Handler, log interface{ Error(string, ...any) },
	tune func(*http.Server, net.Listener) net.Listener) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("http listen: %w", err)
	}
	srv, a := serveOn(ln, h, log, tune)
	return srv, a, nil
}

// serveOn serves h on ln until shutdown, like serveHTTP, for a caller that
// needed the address before it had the handler.
func serveOn(ln net.Listener, h http.Handler, log interface{ Error(string, ...any) },
	tune func(*http.Server, net.Listener) net.Listener) (*http.Server, string) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	if tune != nil {
		ln = tune(srv, ln)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	return srv, ln.Addr().String()
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
