package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/proto"
)

func runNode(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := config.Parse(fs, args, getenv, &cfg, func(fs *flag.FlagSet, c *config.Config) {
		config.BindCommon(fs, c)
		config.BindNode(fs, c)
	}); err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	nc := cfg.Node
	if len(nc.Trackers) == 0 || len(nc.Streams) == 0 {
		return errors.New("a node needs --trackers and --streams (see canopy.example.yaml, section node)")
	}
	trackers, err := parsePeers(nc.Trackers)
	if err != nil {
		return err
	}
	key, err := originKey(ctx, nc.OriginKey, nc.OriginURL)
	if err != nil {
		return err
	}
	h, err := p2p.NewHost(p2p.HostParams{IdentityFile: filepath.Join(cfg.DataDir, "node.p2p.key"), Listen: nc.P2P.Listen, NAT: nc.P2P.NAT})
	if err != nil {
		return err
	}
	defer h.Close()
	reg := newRegistry()
	var ll atomic.Pointer[nodeLowLatency] // set once its WHEP server runs
	var advert node.WHEPAdvert
	switch {
	case nc.LowLatency && nc.PublicURL != "":
		advert = node.WHEPAdvert{URL: nc.PublicURL, Capacity: nc.MaxWHEPViewersOrDerived(),
			Sessions: func() int { return ll.Load().Sessions() }}
	case nc.LowLatency:
		log.Info("node.public_url is not set: the tracker will not send low-latency viewers here; only viewers of this node's own pages use its WHEP")
	}
	n, err := node.New(node.Params{Host: h, OriginKey: key, Trackers: trackers, Streams: nc.Streams, DataDir: cfg.DataDir,
		MaxChildren: nc.MaxChildren, UploadKbps: int(nc.UploadMbps * 1000), Window: nc.Window,
		Logger: log.With("component", "node"), Registry: reg, WHEP: advert})
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		return err
	}
	defer n.Close()
	if len(nc.BrowserTrackers) > 0 {
		sp, err := startSuperPeer(ctx, n, nc.BrowserTrackers, nc.MaxBrowsersOrDerived(), superpeer.ICE{},
			log.With("component", "superpeer"), reg)
		if err != nil {
			return err
		}
		defer sp.Close()
	}
	routes, err := webRoutes(log, func() string { return proto.EncodePublicKey(key) }, nc.BrowserTrackers, nil)
	if err != nil {
		return err
	}
	chat, err := startConversation(ctx, conversationParams{Host: h, Dir: filepath.Join(cfg.DataDir, "comments"),
		Streams: nc.Streams, ModeratorKey: key, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	defer chat.Close()
	mux := http.NewServeMux()
	mux.Handle("/", n.Handler())
	routes(mux)
	chat.Register(mux)
	if nc.LowLatency {
		l, err := startNodeLowLatency(ctx, h, n, nc.Streams, nc.MaxWHEPViewersOrDerived(), webrtc.SettingEngine{},
			log.With("component", "lowlatency"), reg)
		if err != nil {
			return err
		}
		defer l.Close()
		l.Register(mux)
		ll.Store(l)
	}
	// HTTP/3 on the UDP port with the HTTP port's number; HTTP/1.1 and h2
	// responses advertise it with Alt-Svc.
	h3, err := node.ServeHTTP3(ctx, node.HTTP3Params{Addr: nc.HTTP, Handler: mux, DataDir: cfg.DataDir,
		Logger: log.With("component", "http3")})
	if err != nil {
		return err
	}
	defer h3.Close()
	srv, addr, err := serveHTTP(nc.HTTP, node.AltSvc(mux, h3.Port()), log, node.TuneServer)
	if err != nil {
		return err
	}
	defer shutdown(srv)
	fmt.Fprintf(stdout, "Canopy relay node %s\n  players: %s/watch/<stream> (HLS: /live/<stream>/master.m3u8)\n  HTTP/3:  udp %s (self-signed, pin %s)\n",
		h.ID(), localURL("http", addr), h3.Addr(), h3.PinnedPubKey())
	<-ctx.Done()
	return nil
}

// originKey decodes the configured key, or fetches it from the origin.
func originKey(ctx context.Context, key, url string) (ed25519.PublicKey, error) {
	if key != "" {
		return proto.DecodePublicKey(key)
	}
	if url == "" {
		return nil, errors.New("a node needs --origin-key or --origin-url to verify segments")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(url, "/")+"/api/v1/origin", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch origin key: %w", err)
	}
	defer resp.Body.Close()
	var info struct {
		PublicKey string `json:"public_key"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&info); err != nil {
		return nil, fmt.Errorf("fetch origin key: %w", err)
	}
	return proto.DecodePublicKey(info.PublicKey)
}
