package tracker

import (
	"errors"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/proto"
)

type metrics struct {
	sessions    prometheus.Gauge
	streams     prometheus.Gauge
	assignments prometheus.Counter
	reports     prometheus.Counter
	moves       prometheus.Counter
	drops       *prometheus.CounterVec
	whepPicks   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canopy_tracker_sessions", Help: "Nodes connected to the tracker."}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canopy_tracker_streams", Help: "Streams with a relay tree."}),
		assignments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_tracker_assignments_total", Help: "Assignment messages queued to nodes."}),
		reports: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_tracker_bans_total", Help: "Peers banned as parents after a bad-segment report."}),
		moves: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_tracker_rebalance_moves_total", Help: "Nodes moved up by rebalancing."}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_tracker_sessions_closed_total", Help: "Tracker sessions ended, by reason."}, []string{"reason"}),
		whepPicks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_tracker_whep_picks_total",
			Help: "Low-latency viewers sent to a relay (result=relay) or left to the origin (result=none)."}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.sessions, m.streams, m.assignments, m.reports, m.moves, m.drops, m.whepPicks} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func reasonLabel(err error) string {
	switch {
	case errors.Is(err, ErrHeartbeatLate):
		return "timeout"
	case errors.Is(err, ErrReplaced):
		return "replaced"
	case errors.Is(err, ErrSlowReader):
		return "slow"
	case errors.Is(err, ErrClosed):
		return "shutdown"
	case errors.Is(err, ErrBadMessage), errors.Is(err, ErrBadHello), errors.Is(err, proto.ErrBadMessage):
		return "malformed"
	case errors.Is(err, io.EOF):
		return "eof"
	default:
		return "error"
	}
}
