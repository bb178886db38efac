package transcode

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the transcoder's Prometheus metrics, shared by all streams.
// A nil *Metrics records nothing.
type Metrics struct {
	speed       *prometheus.GaugeVec
	restarts    *prometheus.CounterVec
	fragments   *prometheus.CounterVec
	stderrLines *prometheus.CounterVec
	droppedTags *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		speed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "canopy_transcode_speed",
			Help: "Transcoding speed over the last progress interval (output media seconds per wall-clock second; 1 = real time).",
		}, []string{"stream"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_transcode_restarts_total",
			Help: "ffmpeg restarts after an unexpected exit.",
		}, []string{"stream"}),
		fragments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_transcode_fragments_total",
			Help: "Media fragments produced.",
		}, []string{"stream", "rendition"}),
		stderrLines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_transcode_stderr_lines_total",
			Help: "ffmpeg stderr lines by class (ignore, explain, error).",
		}, []string{"stream", "class"}),
		droppedTags: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_transcode_dropped_tags_total",
			Help: "FLV tags dropped while ffmpeg was restarting or waiting for a keyframe.",
		}, []string{"stream"}),
	}
	for _, c := range []prometheus.Collector{m.speed, m.restarts, m.fragments, m.stderrLines, m.droppedTags} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("transcode: registering metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) setSpeed(stream string, v float64) {
	if m != nil {
		m.speed.WithLabelValues(stream).Set(v)
	}
}

func (m *Metrics) restart(stream string) {
	if m != nil {
		m.restarts.WithLabelValues(stream).Inc()
	}
}

func (m *Metrics) fragment(stream, rendition string) {
	if m != nil {
		m.fragments.WithLabelValues(stream, rendition).Inc()
	}
}

func (m *Metrics) stderrLine(stream string, c Class) {
	if m != nil {
		m.stderrLines.WithLabelValues(stream, c.String()).Inc()
	}
}

func (m *Metrics) droppedTag(stream string) {
	if m != nil {
		m.droppedTags.WithLabelValues(stream).Inc()
	}
}

// forget removes the stream's gauge when its transcoder closes (counters stay).
func (m *Metrics) forget(stream string) {
	if m != nil {
		m.speed.DeleteLabelValues(stream)
	}
}
