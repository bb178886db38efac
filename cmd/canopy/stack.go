package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/origin"
	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/sfu/relay"
)

// originStack is an origin and the relay tree's root node it feeds.
type originStack struct {
	o    *origin.Origin
	h    host.Host
	root *node.Node
	chat *conversation
	rel  *relay.Server // the low-latency media to relay nodes; nil when off
}

// startOriginStack starts the root node (joining trackers) and the origin,
// which also serves the web app and, when browserTracker is not nil, the
// browser tracker at GET /tracker. router, optional, sends low-latency
// viewers to relay nodes.
func startOriginStack(ctx context.Context, cfg config.Config, trackers []peer.AddrInfo, browserTracker http.Handler,
	router origin.WHEPRouter, log *slog.Logger, reg *prometheus.Registry) (*originStack, error) {
	key, err := loadOriginKey(cfg)
	if err != nil {
		return nil, err
	}
	pub := proto.EncodePublicKey(key.Public().(ed25519.PublicKey))
	h, err := p2p.NewHost(p2p.HostParams{IdentityFile: filepath.Join(cfg.DataDir, "origin.p2p.key"),
		Listen: cfg.Origin.P2P.Listen, NAT: cfg.Origin.P2P.NAT})
	if err != nil {
		return nil, err
	}
	st := &originStack{h: h}
	var streams []string
	for _, s := range cfg.Origin.Streams {
		streams = append(streams, s.ID)
	}
	// The origin holds the broadcaster's key (the one that signs segments)
	// and signs moderation for whoever presents the stream key.
	st.chat, err = startConversation(ctx, conversationParams{Host: h, Dir: filepath.Join(cfg.DataDir, "comments"),
		Streams: streams, ModeratorKey: key.Public().(ed25519.PublicKey), Signer: key,
		Authorize: func(stream, token string) bool { return st.o != nil && st.o.Authorize(stream, token) },
		Logger:    log, Registerer: reg})
	if err != nil {
		return nil, errors.Join(err, h.Close())
	}
	web, err := webRoutes(log, func() string { return pub }, nil, browserTracker)
	if err != nil {
		return nil, errors.Join(err, st.chat.Close(), h.Close())
	}
	routes := func(mux *http.ServeMux) {
		web(mux)
		st.chat.Register(mux)
	}
	st.root, err = node.New(node.Params{Host: h, OriginKey: key.Public().(ed25519.PublicKey), Trackers: trackers, Root: true,
		DataDir:     filepath.Join(cfg.DataDir, "root"),
		MaxChildren: cfg.Origin.RelayChildren, Window: cfg.Origin.DVRWindow, Logger: log.With("component", "root"), Registry: reg})
	if err != nil {
		return nil, errors.Join(err, st.chat.Close(), h.Close())
	}
	st.o, err = newOrigin(cfg, key, log, reg, rootFeed{n: st.root, log: log.With("component", "root")},
		func() (string, []string) { return h.ID().String(), peerAddrs(h) }, routes, router)
	if err != nil {
		return nil, errors.Join(err, st.chat.Close(), h.Close())
	}
	if err := st.root.Start(ctx); err != nil {
		return nil, errors.Join(err, st.chat.Close(), h.Close())
	}
	if err := st.o.Start(ctx); err != nil {
		return nil, errors.Join(err, st.root.Close(), st.chat.Close(), h.Close())
	}
	if st.rel, err = startRootRelay(h, st.o.LowLatencySource(), log); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	return st, nil
}

func (s *originStack) Close() error {
	var rerr error
	if s.rel != nil {
		rerr = s.rel.Close()
	}
	return errors.Join(rerr, s.o.Close(), s.root.Close(), s.chat.Close(), s.h.Close())
}
