package main

import (
	"context"
	"fmt"
	"github.com/canopylive/canopy/origin"
	"io"
	"net/http"

	"github.com/canopylive/canopy/internal/config"
)

func runOrigin(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg := config.Default()
	if err := loadConfig("origin", args, stderr, getenv, &cfg, config.BindOriginP2P); err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	if len(cfg.Origin.Streams) == 0 {
		log.Warn("no streams configured: every publisher will be refused (see origin.streams in canopy.example.yaml)")
	}
	trackers, err := parsePeers(cfg.Origin.Trackers)
	if err != nil {
		return err
	}
	var browserTracker http.Handler
	var router origin.WHEPRouter
	if cfg.Origin.BrowserTracker != "" {
		if browserTracker, err = trackerProxy(cfg.Origin.BrowserTracker); err != nil {
			return err
		}
		router = newHTTPWHEPRouter(cfg.Origin.BrowserTracker)
	}
	st, err := startOriginStack(ctx, cfg, trackers, browserTracker, router, log, newRegistry())
	if err != nil {
		return err
	}
	o := st.o
	base := baseURL(cfg, o)
	fmt.Fprintf(stdout, "Canopy origin\n  streams: %s/\n  API:     %s/api/v1/streams\n  RTMP:    %s/live/<stream key>\n",
		base, base, localURL("rtmp", o.RTMPAddr()))
	<-ctx.Done()
	log.Info("shutting down")
	return st.Close()
}
