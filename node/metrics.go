package node

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's Prometheus collectors.
type metrics struct {
	segments  *prometheus.CounterVec
	forwarded prometheus.Counter
	fwdBytes  prometheus.Counter
	drops     prometheus.Counter
	skippedIn prometheus.Counter
	children  prometheus.Gauge
	reattach  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		segments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_node_segments_total", Help: "Segments received, by result (accepted, rejected).",
		}, []string{"result"}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_node_frames_forwarded_total", Help: "Live frames written to children.",
		}),
		fwdBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_node_bytes_forwarded_total",
			Help: "Bytes of tree frames (back-fill, live, skip notices) written to children, all streams.",
		}),
		drops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_node_child_drops_total", Help: "Frames dropped because a child's queue was full.",
		}),
		skippedIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_node_skipped_received_total", Help: "Skipped notices received from parents.",
		}),
		children: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canopy_node_children", Help: "Children attached, over all streams.",
		}),
		reattach: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "canopy_node_reattach_seconds",
			Help:    "Time from losing a parent to the first segment from the next one.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 30},
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.segments, m.forwarded, m.fwdBytes, m.drops, m.skippedIn, m.children, m.reattach} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("node metrics: %w", err)
		}
	}
	return m, nil
}
