package webtorrent

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the Prometheus collectors and the totals Stats reports.
type metrics struct {
	connections prometheus.Gauge
	swarms      prometheus.Gauge
	peers       *prometheus.GaugeVec
	announces   prometheus.Counter
	scrapes     prometheus.Counter
	offers      prometheus.Counter
	answers     prometheus.Counter
	dropped     prometheus.Counter
	errors      *prometheus.CounterVec

	nAnnounces, nScrapes, nOffers, nAnswers, nDropped, nErrors atomic.Uint64
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canopy_wstracker_connections", Help: "Open tracker WebSocket connections."}),
		swarms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canopy_wstracker_swarms", Help: "Swarms (info_hashes) with at least one peer."}),
		peers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "canopy_wstracker_peers", Help: "Swarm memberships, by kind (relay, browser)."}, []string{"kind"}),
		announces: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_wstracker_announces_total", Help: "Announces accepted (answers excluded)."}),
		scrapes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_wstracker_scrapes_total", Help: "Scrapes answered."}),
		offers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_wstracker_offers_relayed_total", Help: "WebRTC offers forwarded to a peer."}),
		answers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_wstracker_answers_relayed_total", Help: "WebRTC answers forwarded to a peer."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canopy_wstracker_dropped_messages_total", Help: "Outgoing messages dropped because the socket's queue was full."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canopy_wstracker_errors_total", Help: "Rejected messages and connections, by reason."}, []string{"reason"}),
	}
	m.peers.WithLabelValues("relay")
	m.peers.WithLabelValues("browser")
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.swarms, m.peers, m.announces, m.scrapes,
		m.offers, m.answers, m.dropped, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("webtorrent: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) announce() { m.announces.Inc(); m.nAnnounces.Add(1) }
func (m *metrics) scrape()   { m.scrapes.Inc(); m.nScrapes.Add(1) }
func (m *metrics) offer()    { m.offers.Inc(); m.nOffers.Add(1) }
func (m *metrics) answer()   { m.answers.Inc(); m.nAnswers.Add(1) }
func (m *metrics) drop()     { m.dropped.Inc(); m.nDropped.Add(1) }

func (m *metrics) fail(err error) {
	m.errors.WithLabelValues(reasonLabel(err)).Inc()
	m.nErrors.Add(1)
}
