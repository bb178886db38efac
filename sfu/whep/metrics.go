package whep

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	open    prometheus.Gauge
	created prometheus.Counter
	refused *prometheus.CounterVec
	// switches counts viewers' video layer switches by direction.
	switches *prometheus.CounterVec
	up, down prometheus.Counter
}

// layerSwitch is sfu.LayeredParams.OnSwitch: layers are best first.
func (m *metrics) layerSwitch(from, to int) {
	if to < from {
		m.up.Inc()
	} else {
		m.down.Inc()
	}
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
		switches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_whep_layer_switches_total", Help: "Viewers' switches between video layers, by direction (up: to a better layer).",
		}, []string{"direction"}),
	}
	m.up, m.down = m.switches.WithLabelValues("up"), m.switches.WithLabelValues("down")
	if reg != nil {
		for _, c := range []prometheus.Collector{m.open, m.created, m.refused, m.switches} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("%w: metrics: %w", ErrParams, err)
			}
		}
	}
	return m, nil
}
