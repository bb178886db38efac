package whep

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	open    prometheus.Gauge
	created prometheus.Counter
	refused *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canopy_whep_sessions", Help: "Open WHEP sessions.",
		}),
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_whep_sessions_created_total", Help: "WHEP sessions created.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_whep_sessions_refused_total", Help: "WHEP offers refused, by reason.",
		}, []string{"reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.open, m.created, m.refused} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("%w: metrics: %w", ErrParams, err)
			}
		}
	}
	return m, nil
}
