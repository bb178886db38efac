package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/sfu"
	"github.com/canopylive/canopy/sfu/relay"
	"github.com/canopylive/canopy/sfu/whep"
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

func startNodeLowLatency(ctx context.Context, h host.Host, n *node.Node, streams []string, se webrtc.SettingEngine,
	log *slog.Logger, reg prometheus.Registerer) (*nodeLowLatency, error) {
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
	if l.whep, err = whep.New(whep.Params{Source: l, API: api, Logger: log, Registerer: reg}); err != nil {
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
