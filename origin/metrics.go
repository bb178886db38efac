package origin

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the origin's Prometheus series, registered on the registry
// passed in Params (never the global one).
type metrics struct {
	rtmpConns     prometheus.Gauge
	refused       *prometheus.CounterVec
	live          prometheus.Gauge
	ingestBytes   *prometheus.CounterVec
	segments      *prometheus.CounterVec
	archiveErrors prometheus.Counter
	httpRequests  *prometheus.CounterVec
	httpBytes     *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	rtpDropped    prometheus.Counter
	whepRedirects *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		rtmpConns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "canopy_rtmp_connections", Help: "Open RTMP connections."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "canopy_rtmp_refused_total",
			Help: "RTMP connections or publishers refused, by reason."}, []string{"reason"}),
		ingestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "canopy_ingest_bytes_total",
			Help: "Audio and video payload bytes received from publishers."}, []string{"stream"}),
		live: prometheus.NewGauge(prometheus.GaugeOpts{Name: "canopy_streams_live", Help: "Streams with a connected publisher."}),
		segments: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "canopy_segments_sealed_total",
			Help: "Media segments sealed and signed."}, []string{"stream", "rendition"}),
		archiveErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "canopy_archive_errors_total",
			Help: "Segments that could not be written to the segment store."}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "canopy_http_requests_total",
			Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
		httpBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "canopy_http_response_bytes_total",
			Help: "HTTP response body bytes by route (the origin's egress)."}, []string{"route"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "canopy_http_request_duration_seconds",
			Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8)}, []string{"route"}),
		rtpDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "canopy_lowlatency_rtp_dropped_total",
			Help: "RTP packets on the low-latency receivers that were not ffmpeg's (SSRC, payload type) or did not parse."}),
		whepRedirects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "canopy_whep_offers_routed_total",
			Help: "WHEP offers sent to a relay node (to=relay) or kept by the origin (to=origin) after asking the router."}, []string{"to"}),
	}
	for _, c := range []prometheus.Collector{m.rtmpConns, m.refused, m.live, m.ingestBytes, m.segments, m.archiveErrors, m.httpRequests, m.httpBytes, m.httpDuration, m.rtpDropped, m.whepRedirects} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
