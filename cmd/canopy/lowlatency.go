package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/sfu"
	"github.com/canopylive/canopy/sfu/relay"
	"github.com/canopylive/canopy/sfu/whep"
	"github.com/canopylive/canopy/tracker"
)

// nodeLowLatency is a relay node's low-latency part: for each stream it
// carries, a Follower pulling the media from the node's current parent in
// the relay tree, a relay Server passing it on to the node's children, and
// WHEP for its viewers.
type nodeLowLatency struct {
	followers map[string]*relay.Follower
	srv       *relay.Server
	whep      *whep.Server
}

func startNodeLowLatency(ctx context.Context, h host.Host, n *node.Node, streams []string, maxViewers int,
	se webrtc.SettingEngine, log *slog.Logger, reg prometheus.Registerer) (*nodeLowLatency, error) {
	l := &nodeLowLatency{followers: map[string]*relay.Follower{}}
	for _, s := range streams {
		f, err := relay.NewFollower(relay.FollowerParams{Host: h, Stream: s,
			Parent: func() (peer.ID, <-chan struct{}) { return n.ParentWatch(s) }, Logger: log})
		if err != nil {
			return nil, errors.Join(err, l.Close())
		}
		f.Start(ctx)
		l.followers[s] = f
	}
	var err error
	if l.srv, err = relay.NewServer(relay.ServerParams{Host: h, Source: l, Logger: log}); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	l.srv.Start()
	api, err := sfu.NewAPI(se)
	if err != nil {
		return nil, errors.Join(err, l.Close())
	}
	if l.whep, err = whep.New(whep.Params{Source: l, API: api, MaxSessions: maxViewers, Logger: log, Registerer: reg}); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

// Tracks implements whep.Source and relay.Source.
func (l *nodeLowLatency) Tracks(stream string) []*sfu.Track {
	if f := l.followers[stream]; f != nil {
		return f.Tracks()
	}
	return nil
}

// Sessions is how many WHEP viewers the node has; 0 before it started.
func (l *nodeLowLatency) Sessions() int {
	if l == nil || l.whep == nil {
		return 0
	}
	return l.whep.Sessions()
}

// Register adds WHEP to the node's HTTP routes.
func (l *nodeLowLatency) Register(mux *http.ServeMux) { l.whep.Register(mux) }

func (l *nodeLowLatency) Close() error {
	var errs []error
	if l.whep != nil {
		errs = append(errs, l.whep.Close())
	}
	if l.srv != nil {
		errs = append(errs, l.srv.Close())
	}
	for _, f := range l.followers {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// startRootRelay serves the origin's low-latency tracks to the relay
// nodes it feeds; nil when low latency is off.
func startRootRelay(h host.Host, src relay.Source, log *slog.Logger) (*relay.Server, error) {
	if src == nil {
		return nil, nil
	}
	s, err := relay.NewServer(relay.ServerParams{Host: h, Source: src, Logger: log})
	if err != nil {
		return nil, err
	}
	s.Start()
	return s, nil
}

// trackerWHEPRouter asks an in-process tracker (canopy dev) which relay a
// low-latency viewer should use.
type trackerWHEPRouter struct{ t *tracker.Tracker }

func (r trackerWHEPRouter) PickWHEP(_ context.Context, stream string, client netip.Addr) (string, bool, error) {
	u, ok := r.t.PickWHEP(stream, client)
	return u, ok, nil
}

// httpWHEPRouter asks a tracker over HTTP (GET /tracker/whep/{stream}),
// for an origin whose tracker runs elsewhere.
type httpWHEPRouter struct {
	base   string
	client *http.Client
}

func newHTTPWHEPRouter(trackerBase string) httpWHEPRouter {
	return httpWHEPRouter{base: strings.TrimRight(trackerBase, "/"), client: &http.Client{Timeout: 2 * time.Second}}
}

func (r httpWHEPRouter) PickWHEP(ctx context.Context, stream string, client netip.Addr) (string, bool, error) {
	u := r.base + "/tracker/whep/" + url.PathEscape(stream)
	if client.IsValid() {
		u += "?client=" + url.QueryEscape(client.String())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", false, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("ask tracker for a WHEP relay: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return "", false, nil
	default:
		return "", false, fmt.Errorf("ask tracker for a WHEP relay: %s", resp.Status)
	}
	var body struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&body); err != nil {
		return "", false, fmt.Errorf("ask tracker for a WHEP relay: %w", err)
	}
	if body.URL == "" {
		return "", false, nil
	}
	return body.URL, true, nil
}
