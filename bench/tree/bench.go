package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/canopylive/canopy/proto"
)

const benchStream = "bench"

// result is one N's measurement.
type result struct {
	Nodes        int     `json:"nodes"`
	Fanout       int     `json:"fanout"`
	Segments     int     `json:"segments"`
	Renditions   int     `json:"renditions"`
	SegmentBytes int     `json:"segment_bytes"`
	IntervalMS   float64 `json:"interval_ms"`
	Transport    string  `json:"transport"`
	AttachMS     float64 `json:"attach_ms"`     // nodes started -> every link subscribed
	TreeDepth    int     `json:"tree_depth"`    // tracker's snapshot, deepest node
	RootChildren int     `json:"root_children"` // tracker's snapshot
	TreeChanged  bool    `json:"tree_changed"`  // tracker snapshot differs before/after
	ScanErrors   int     `json:"scan_errors"`   // tree streams the tap could not follow
	latency
	// Origin egress: bytes the root wrote to its children while the
	// measured segments were published, per published segment.
	EgressBytes      int64   `json:"egress_bytes"`
	EgressPerSegment float64 `json:"egress_per_segment"`
	VsFanout         float64 `json:"egress_vs_fanout"` // ÷ (fanout × size)
	VsPlain          float64 `json:"egress_vs_plain"`  // ÷ (N × size)
	FramesPerSegment float64 `json:"root_frames_forwarded_per_segment"`
	// The busiest relay's egress per segment.
	MaxRelayEgressPerSegment float64 `json:"max_relay_egress_per_segment"`
}

// runOnce builds a tree of n relays, publishes and measures.
func runOnce(ctx context.Context, cfg config, n int, log *slog.Logger) (res result, err error) {
	res = result{
		Nodes: n, Fanout: cfg.fanout, Segments: cfg.segments, Renditions: cfg.renditions,
		SegmentBytes: cfg.size, IntervalMS: ms(cfg.interval), Transport: cfg.transport,
	}
	o := newOrigin(benchStream, cfg.renditions, cfg.size)
	rctx, cancel := context.WithCancel(ctx)
	rec := newRecorder(rctx, benchStream)
	listen := "/ip4/127.0.0.1/tcp/0"
	if cfg.transport == "quic" {
		listen = "/ip4/127.0.0.1/udp/0/quic-v1"
	}
	start := time.Now()
	c, err := newCluster(ctx, clusterParams{
		Relays: n, Fanout: cfg.fanout, Stream: benchStream, Key: o.public(),
		Listen: listen, Recorder: rec, Logger: log,
	})
	defer func() {
		cancel()
		if cerr := c.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close: %w", cerr)
		}
		rec.wg.Wait()
	}()
	if err != nil {
		return res, err
	}
	sctx, scancel := context.WithTimeout(ctx, cfg.settle)
	err = c.waitAttached(sctx, benchStream)
	scancel()
	if err != nil {
		return res, err
	}
	res.AttachMS = ms(time.Since(start))

	for _, r := range o.info.Renditions {
		rec, data := o.initSeg(r.Name)
		if err := c.root.node.Publish(o.info, rec, data); err != nil {
			return res, fmt.Errorf("publish init: %w", err)
		}
	}
	// Warm-up: deliver a few segments everywhere before measuring.
	warm, _, err := publish(ctx, c, o, 0, cfg.warmup, cfg.interval)
	if err != nil {
		return res, err
	}
	if err := drain(ctx, rec, n, warm, cfg.drain); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}

	before := c.tracker.Snapshot(benchStream)
	egress0 := c.root.egress.Load()
	frames0 := metricValue(c.root.reg, "canopy_node_frames_forwarded_total")
	relay0 := make([]int64, len(c.relays))
	for i, m := range c.relays {
		relay0[i] = m.egress.Load()
	}
	want, published, err := publish(ctx, c, o, uint64(cfg.warmup), cfg.segments, cfg.interval)
	if err != nil {
		return res, err
	}
	drainErr := drain(ctx, rec, n, want, cfg.drain) // still report what arrived
	after := c.tracker.Snapshot(benchStream)

	count := float64(len(want))
	res.EgressBytes = c.root.egress.Load() - egress0
	res.EgressPerSegment = float64(res.EgressBytes) / count
	res.VsFanout = res.EgressPerSegment / float64(cfg.fanout*cfg.size)
	res.VsPlain = res.EgressPerSegment / float64(n*cfg.size)
	res.FramesPerSegment = (metricValue(c.root.reg, "canopy_node_frames_forwarded_total") - frames0) / count
	for i, m := range c.relays {
		res.MaxRelayEgressPerSegment = max(res.MaxRelayEgressPerSegment, float64(m.egress.Load()-relay0[i])/count)
	}

	res.TreeDepth = after.MaxDepth()
	res.TreeChanged = !sameTree(before, after)
	depths := map[string]int{}
	for _, ns := range after.Nodes {
		depths[ns.ID] = ns.Depth
		if ns.ID == after.Root {
			res.RootChildren = ns.Children
		}
	}
	ids := make([]string, len(c.relays))
	for i, m := range c.relays {
		ids[i] = m.host.ID().String()
	}
	arrivals, scanErrs := rec.snapshot()
	res.ScanErrors = scanErrs
	res.latency = analyze(observations{
		RootID: c.root.host.ID().String(), NodeIDs: ids, Published: published,
		Arrivals: arrivals, TrackerDepth: depths,
	})
	if drainErr != nil {
		log.Warn("not every segment reached every node", "n", n, "err", drainErr)
	}
	return res, nil
}

// publish publishes count media segments of every rendition from sequence
// first, one column every interval, and returns their IDs and the time
// each Publish call started.
func publish(ctx context.Context, c *cluster, o *origin, first uint64, count int, interval time.Duration) ([]segmentID, map[segmentID]time.Time, error) {
	ids := []segmentID{}
	at := map[segmentID]time.Time{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := range count {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-t.C:
			}
		}
		seq := first + uint64(i)
		for _, r := range o.info.Renditions {
			rec, data := o.mediaSeg(r.Name, seq)
			id := segmentID{Rendition: r.Name, Kind: proto.KindMedia, Sequence: seq}
			start := time.Now()
			if err := c.root.node.Publish(o.info, rec, data); err != nil {
				return nil, nil, fmt.Errorf("publish %s/%d: %w", r.Name, seq, err)
			}
			ids = append(ids, id)
			at[id] = start
		}
	}
	return ids, at, nil
}

// drain waits up to d for every relay to cache every segment of want.
func drain(ctx context.Context, rec *recorder, n int, want []segmentID, d time.Duration) error {
	dctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if !rec.waitAll(dctx, n, want) {
		return fmt.Errorf("segments missing after %v: %w", d, dctx.Err())
	}
	return nil
}

// sameTree reports whether two snapshots have the same parent links.
func sameTree(a, b trackerSnapshot) bool {
	if len(a.Nodes) != len(b.Nodes) {
		return false
	}
	parent := map[string]string{}
	for _, n := range a.Nodes {
		parent[n.ID] = n.Parent
	}
	for _, n := range b.Nodes {
		if p, ok := parent[n.ID]; !ok || p != n.Parent {
			return false
		}
	}
	return true
}
