package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/tracker"
	"github.com/canopylive/canopy/tracker/webtorrent"
	"github.com/canopylive/canopy/web"
)

// Wiring of the browser side: the WebTorrent-compatible tracker, the web
// app, and relay nodes as super-peers.

// newBrowserTracker is the tracker's WebSocket signalling for browsers.
// A client proving a relay node's libp2p key (proto.RelayAuthHeader) is a
// super-peer, offered to browsers first.
func newBrowserTracker(cfg config.Tracker, log *slog.Logger, reg prometheus.Registerer) (*webtorrent.Server, error) {
	return webtorrent.New(webtorrent.Params{
		Logger:            log,
		AllowedOrigins:    cfg.AllowedOrigins,
		TrustForwardedFor: cfg.TrustForwardedFor,
		Registerer:        reg,
		RelayAuth: func(r *http.Request) (string, bool) {
			v := r.Header.Get(proto.RelayAuthHeader)
			if v == "" {
				return "", false
			}
			id, err := proto.VerifyRelayAuth(v, r.Host, time.Now())
			if err != nil {
				log.Info("relay auth refused", "remote", r.RemoteAddr, "err", err)
				return "", false
			}
			return id.String(), true
		},
	})
}

// trackerStats serves GET /tracker/stats: the relay trees and the browser
// swarms, {"streams":[...],"browsers":{...}}.
func trackerStats(t *tracker.Tracker, wt *webtorrent.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(struct {
			Streams  []tracker.Snapshot `json:"streams"`
			Browsers webtorrent.Stats   `json:"browsers"`
		}{t.Snapshots(), wt.Stats()})
	})
}

// trackerProxy forwards GET /tracker (a WebSocket upgrade) to the
// tracker at base (http://host:port), adding X-Forwarded-For.
func trackerProxy(base string) (http.Handler, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("browser tracker URL %q: %w", base, err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("browser tracker URL %q: no host", base)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.URL.Path = "/tracker"
			pr.SetXForwarded()
		},
	}, nil
}

// webRoutes mounts the web app (and, when tracker is not nil, the browser
// tracker at GET /tracker) on a mux. pages' trackers are trackers, or the
// page's own host when empty.
func webRoutes(log *slog.Logger, publicKey func() string, trackers []string, browserTracker http.Handler) (func(*http.ServeMux), error) {
	app, err := web.New(web.Params{Logger: log.With("component", "web"), PublicKey: publicKey,
		Trackers: func(*http.Request) []string { return trackers }})
	if err != nil {
		return nil, err
	}
	return func(mux *http.ServeMux) {
		app.Register(mux)
		if browserTracker != nil {
			mux.Handle("GET /tracker", browserTracker)
		}
	}, nil
}

// startSuperPeer makes relay node n a super-peer in the browser swarms of
// its streams, at the browser trackers given.
func startSuperPeer(ctx context.Context, n *node.Node, trackers []string, maxPeers int, ice superpeer.ICE,
	log *slog.Logger, reg prometheus.Registerer) (*superpeer.SuperPeer, error) {
	sp, err := superpeer.New(superpeer.Params{
		Logger: log, Trackers: trackers, Header: n.RelayAuthHeader,
		Source: n.BrowserSource(), MaxPeers: maxPeers, ICE: ice, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	if err := sp.Start(ctx); err != nil {
		return nil, err
	}
	return sp, nil
}
