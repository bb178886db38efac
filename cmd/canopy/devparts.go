package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/tracker"
	"github.com/canopylive/canopy/tracker/webtorrent"
)

// devNodes is how many relay nodes `canopy dev` runs.
const devNodes = 2

// loopbackP2P are libp2p listen addresses on loopback, random ports.
func loopbackP2P() []string {
	return []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
}

// devTracker is the in-process tracker of `canopy dev`.
type devTracker struct {
	h   host.Host
	t   *tracker.Tracker
	wt  *webtorrent.Server // the browser tracker, also mounted on the origin
	srv *http.Server
	url string
}

func startDevTracker(ctx context.Context, cfg config.Config, log *slog.Logger) (*devTracker, error) {
	h, err := p2p.NewHost(p2p.HostParams{Listen: loopbackP2P()})
	if err != nil {
		return nil, err
	}
	t, err := tracker.New(tracker.Params{Host: h, Logger: log.With("component", "tracker"),
		HeartbeatTimeout: cfg.Tracker.HeartbeatTimeout})
	if err != nil {
		return nil, errors.Join(err, h.Close())
	}
	if err := t.Start(ctx); err != nil {
		return nil, errors.Join(err, h.Close())
	}
	wt, err := newBrowserTracker(cfg.Tracker, log.With("component", "browser-tracker"), nil)
	if err != nil {
		return nil, errors.Join(err, t.Close(), h.Close())
	}
	mux := http.NewServeMux()
	mux.Handle("GET /tracker/stats", trackerStats(t, wt))
	mux.Handle("GET /tracker/whep/{stream}", t.WHEPHandler())
	mux.Handle("GET /tracker", wt)
	srv, addr, err := serveHTTP("127.0.0.1:0", mux, log, nil)
	if err != nil {
		return nil, errors.Join(err, wt.Close(), t.Close(), h.Close())
	}
	return &devTracker{h: h, t: t, wt: wt, srv: srv, url: localURL("http", addr)}, nil
}

// wsURL is the browser tracker's WebSocket URL.
func (d *devTracker) wsURL() string { return "ws" + strings.TrimPrefix(d.url, "http") + "/tracker" }

func (d *devTracker) peers() []peer.AddrInfo {
	return []peer.AddrInfo{{ID: d.h.ID(), Addrs: d.h.Addrs()}}
}

func (d *devTracker) Close() error {
	shutdown(d.srv)
	return errors.Join(d.wt.Close(), d.t.Close(), d.h.Close())
}

// devRelays are the relay nodes of `canopy dev`, each with its own HTTP
// server for players.
type devRelays struct {
	hosts []host.Host
	nodes []*node.Node
	sps   []*superpeer.SuperPeer
	chats []*conversation
	lls   []*nodeLowLatency
	srvs  []*http.Server
	lns   []net.Listener
	urls  []string
}

func startDevNodes(ctx context.Context, cfg config.Config, tr *devTracker, superPeers bool, key ed25519.PublicKey, n int, log *slog.Logger) (*devRelays, error) {
	trackers := tr.peers()
	browserTrackers := []string{tr.wsURL()}
	d := &devRelays{}
	for i := range n {
		dir := filepath.Join(cfg.DataDir, fmt.Sprintf("node%d", i+1))
		h, err := p2p.NewHost(p2p.HostParams{IdentityFile: filepath.Join(dir, "node.p2p.key"), Listen: loopbackP2P()})
		if err != nil {
			return nil, errors.Join(err, d.Close())
		}
		d.hosts = append(d.hosts, h)
		// Listen first: the node tells the tracker its WHEP URL in its Hello.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(fmt.Errorf("http listen: %w", err), d.Close())
		}
		d.lns = append(d.lns, ln) // closed by Close, also if a step below fails
		nodeURL := localURL("http", ln.Addr().String())
		var ll atomic.Pointer[nodeLowLatency]
		var advert node.WHEPAdvert
		if cfg.Origin.LowLatency.Enabled {
			advert = node.WHEPAdvert{URL: nodeURL, Capacity: cfg.Node.MaxWHEPViewersOrDerived(),
				Sessions: func() int { return ll.Load().Sessions() }}
		}
		nd, err := node.New(node.Params{Host: h, OriginKey: key, Trackers: trackers, Streams: []string{devStream},
			DataDir:     filepath.Join(cfg.DataDir, fmt.Sprintf("node%d", i+1)),
			MaxChildren: cfg.Node.MaxChildren, UploadKbps: int(cfg.Node.UploadMbps * 1000), Window: cfg.Node.Window,
			Logger: log.With("component", "node", "node", i+1), Registry: prometheus.NewRegistry(), WHEP: advert})
		if err != nil {
			return nil, errors.Join(err, d.Close())
		}
		if err := nd.Start(ctx); err != nil {
			return nil, errors.Join(err, d.Close())
		}
		d.nodes = append(d.nodes, nd)
		if superPeers {
			nlog := log.With("component", "superpeer", "node", i+1)
			sp, err := startSuperPeer(ctx, nd, browserTrackers, cfg.Node.MaxBrowsersOrDerived(), superpeer.ICE{}, nlog, nil)
			if err != nil {
				return nil, errors.Join(err, d.Close())
			}
			d.sps = append(d.sps, sp)
		}
		routes, err := webRoutes(log, func() string { return proto.EncodePublicKey(key) }, browserTrackers, nil)
		if err != nil {
			return nil, errors.Join(err, d.Close())
		}
		chat, err := startConversation(ctx, conversationParams{Host: h, Dir: filepath.Join(dir, "comments"),
			Streams: []string{devStream}, ModeratorKey: key, Logger: log.With("node", i+1), Registerer: prometheus.NewRegistry()})
		if err != nil {
			return nil, errors.Join(err, d.Close())
		}
		d.chats = append(d.chats, chat)
		mux := http.NewServeMux()
		mux.Handle("/", nd.Handler())
		routes(mux)
		chat.Register(mux)
		if cfg.Origin.LowLatency.Enabled {
			l, err := startNodeLowLatency(ctx, h, nd, []string{devStream}, cfg.Node.MaxWHEPViewersOrDerived(), webrtc.SettingEngine{},
				log.With("component", "lowlatency", "node", i+1), prometheus.NewRegistry())
			if err != nil {
				return nil, errors.Join(err, d.Close())
			}
			d.lls = append(d.lls, l)
			l.Register(mux)
			ll.Store(l)
		}
		srv, _ := serveOn(ln, mux, log, node.TuneServer)
		d.srvs = append(d.srvs, srv)
		d.urls = append(d.urls, nodeURL)
	}
	return d, nil
}

func (d *devRelays) Close() error {
	for _, s := range d.srvs {
		shutdown(s)
	}
	for _, ln := range d.lns {
		_ = ln.Close() // already closed by shutdown when it was served
	}
	var errs []error
	for _, sp := range d.sps {
		errs = append(errs, sp.Close())
	}
	for _, n := range d.nodes {
		errs = append(errs, n.Close())
	}
	for _, c := range d.chats {
		errs = append(errs, c.Close())
	}
	for _, l := range d.lls {
		errs = append(errs, l.Close())
	}
	for _, h := range d.hosts {
		errs = append(errs, h.Close())
	}
	return errors.Join(errs...)
}
