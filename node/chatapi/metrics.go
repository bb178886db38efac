package chatapi

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	open    prometheus.Gauge
	sent    prometheus.Counter
	slow    prometheus.Counter
	refused prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canopy_chat_subscribers", Help: "Open event feeds (Server-Sent Events) on this node.",
		}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_chat_events_queued_total", Help: "Events queued to event-feed subscribers.",
		}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_chat_subscribers_dropped_total", Help: "Event feeds disconnected because their queue was full.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_chat_subscribers_refused_total", Help: "Event feeds refused at the subscriber limit.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.open, m.sent, m.slow, m.refused} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("%w: metrics: %w", ErrParams, err)
			}
		}
	}
	return m, nil
}
