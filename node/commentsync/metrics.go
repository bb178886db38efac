package commentsync

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	stored    prometheus.Counter
	moderated prometheus.Counter
	validated *prometheus.CounterVec // by result: accept, reject, ignore
	caughtUp  prometheus.Counter
	syncErrs  prometheus.Counter
	dropped   *prometheus.CounterVec // by reason
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_commentsync_stored_total", Help: "Comments newly stored from the network or a local post.",
		}),
		moderated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_commentsync_moderation_total", Help: "Moderation actions newly stored and applied.",
		}),
		validated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_commentsync_validated_total", Help: "Gossip messages validated, by result.",
		}, []string{"result"}),
		caughtUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_commentsync_caught_up_total", Help: "Comments newly stored by catch-up.",
		}),
		syncErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_commentsync_sync_errors_total", Help: "Catch-up requests that failed.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_commentsync_gossip_dropped_total", Help: "Gossip messages or RPCs gossipsub dropped or rejected, by reason.",
		}, []string{"reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.stored, m.moderated, m.validated, m.caughtUp, m.syncErrs, m.dropped} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("%w: metrics: %w", ErrParams, err)
			}
		}
	}
	return m, nil
}
