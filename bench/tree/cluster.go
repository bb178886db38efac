package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/tracker"
)

var errNotAttached = errors.New("tree did not form")

// member is one node of the cluster with what measures it.
type member struct {
	host   host.Host
	node   *node.Node
	reg    *prometheus.Registry
	egress atomic.Int64
}

// cluster is a tracker, a root and relay nodes on loopback.
type cluster struct {
	log      *slog.Logger
	hosts    []host.Host
	tracker  *tracker.Tracker
	root     *member
	relays   []*member
	stopping []func() error
}

// clusterParams says what to build.
type clusterParams struct {
	Relays    int
	Fanout    int
	Stream    string
	Key       ed25519.PublicKey
	Listen    string
	Recorder  *recorder
	Logger    *slog.Logger
	Heartbeat time.Duration
}

// newCluster starts everything; Close stops it, also after an error.
func newCluster(ctx context.Context, p clusterParams) (*cluster, error) {
	c := &cluster{log: p.Logger}
	th, err := c.newHost(p.Listen)
	if err != nil {
		return c, err
	}
	rootHost, err := c.newHost(p.Listen)
	if err != nil {
		return c, err
	}
	c.tracker, err = tracker.New(tracker.Params{
		Host: th, Logger: p.Logger, RootPeers: []string{rootHost.ID().String()},
	})
	if err != nil {
		return c, fmt.Errorf("tracker: %w", err)
	}
	if err := c.tracker.Start(ctx); err != nil {
		return c, fmt.Errorf("tracker: %w", err)
	}
	c.stopping = append(c.stopping, c.tracker.Close)
	trackers := []peer.AddrInfo{{ID: th.ID(), Addrs: th.Addrs()}}

	c.root, err = c.newMember(ctx, rootHost, node.Params{
		OriginKey: p.Key, Trackers: trackers, Streams: []string{p.Stream},
		MaxChildren: p.Fanout, Root: true, HeartbeatInterval: p.Heartbeat, Logger: p.Logger,
	}, nil, nil)
	if err != nil {
		return c, err
	}
	for i := range p.Relays {
		h, err := c.newHost(p.Listen)
		if err != nil {
			return c, err
		}
		var n *node.Node
		m, err := c.newMember(ctx, h, node.Params{
			OriginKey: p.Key, Trackers: trackers, Streams: []string{p.Stream},
			MaxChildren: p.Fanout, HeartbeatInterval: p.Heartbeat, Logger: p.Logger,
		}, p.Recorder.tap(i, func() *node.Node { return n }), p.Recorder.scanError)
		if err != nil {
			return c, err
		}
		n = m.node
		c.relays = append(c.relays, m)
	}
	return c, nil
}

func (c *cluster) newHost(listen string) (host.Host, error) {
	h, err := p2p.NewHost(p2p.HostParams{Listen: []string{listen}})
	if err != nil {
		return nil, err
	}
	c.hosts = append(c.hosts, h)
	return h, nil
}

// newMember makes a node on a tapped host and starts it.
func (c *cluster) newMember(ctx context.Context, h host.Host, p node.Params, onFrame frameFunc, onErr func(error)) (*member, error) {
	m := &member{host: h, reg: prometheus.NewRegistry()}
	// A short cache: N nodes each holding every 1 MiB segment (data and
	// encoded frame) would need gigabytes at N = 50.
	p.Window = cacheWindow
	p.Host = &tapHost{Host: h, onFrame: onFrame, egress: &m.egress, onErr: onErr}
	p.Registry = m.reg
	n, err := node.New(p)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	m.node = n
	if err := n.Start(ctx); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	c.stopping = append(c.stopping, n.Close)
	return m, nil
}

// waitAttached waits until every relay node has a parent and the nodes'
// children add up to the number of relays (every link is subscribed).
func (c *cluster) waitAttached(ctx context.Context, stream string) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		children, parents := 0.0, 0
		for _, m := range append([]*member{c.root}, c.relays...) {
			children += metricValue(m.reg, "canopy_node_children")
		}
		for _, m := range c.relays {
			if m.node.Parent(stream) != "" {
				parents++
			}
		}
		if parents == len(c.relays) && int(children) == len(c.relays) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %d of %d relays have a parent, %v children: %w",
				errNotAttached, parents, len(c.relays), children, ctx.Err())
		case <-t.C:
		}
	}
}

// Close stops the nodes (last started first), the tracker and the hosts.
func (c *cluster) Close() error {
	var errs []error
	for i := len(c.stopping) - 1; i >= 0; i-- {
		errs = append(errs, c.stopping[i]())
	}
	for _, h := range c.hosts {
		errs = append(errs, h.Close())
	}
	return errors.Join(errs...)
}

// metricValue returns the sum of a counter's or gauge's samples; 0 when
// the registry does not have it.
func metricValue(g prometheus.Gatherer, name string) float64 {
	mfs, err := g.Gather()
	if err != nil {
		return 0
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

type trackerSnapshot = tracker.Snapshot
