package superpeer

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats is a snapshot of the super-peer's counters.
type Stats struct {
	Swarms           int    // swarms joined now
	PeersConnected   int    // browsers with an open data channel now
	PeersTotal       uint64 // data channels ever opened
	BytesSent        uint64 // bytes written to data channels (commands and segment data)
	SegmentsServed   uint64 // segment uploads completed
	RequestsAbsent   uint64 // requests answered with SegmentAbsent
	RequestsCanceled uint64 // uploads stopped by a cancel or a newer request
	OffersRefused    uint64 // browser offers/answers not taken because MaxPeers was reached
	Malformed        uint64 // malformed peer commands and tracker messages ignored
	Dropped          uint64 // announcements replaced before a backed-up peer took them, tracker messages dropped on a full queue
	Stalled          uint64 // peers closed because they stopped draining
	TrackerConnects  uint64 // successful tracker WebSocket connections
}

// counters are the live values behind Stats and the metrics.
type counters struct {
	peersTotal, bytesSent, segmentsServed, requestsAbsent, requestsCanceled atomic.Uint64
	offersRefused, malformed, dropped, stalled, trackerConnects             atomic.Uint64
}

// register exposes the counters; gauges read the super-peer's state.
func (c *counters) register(reg prometheus.Registerer, peers, swarms func() float64) error {
	if reg == nil {
		return nil
	}
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "canopy", Subsystem: "superpeer", Name: name, Help: help,
		}, func() float64 { return float64(v.Load()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "canopy", Subsystem: "superpeer", Name: name, Help: help,
		}, f)
	}
	for _, col := range []prometheus.Collector{
		gauge("peers", "Browsers with an open data channel.", peers),
		gauge("swarms", "Browser swarms joined.", swarms),
		counter("peers_opened_total", "Browser data channels opened.", &c.peersTotal),
		counter("bytes_sent_total", "Bytes written to browser data channels.", &c.bytesSent),
		counter("segments_served_total", "Segment uploads completed.", &c.segmentsServed),
		counter("requests_absent_total", "Segment requests answered with absent.", &c.requestsAbsent),
		counter("requests_canceled_total", "Segment uploads canceled or superseded.", &c.requestsCanceled),
		counter("offers_refused_total", "Browser connections refused at MaxPeers.", &c.offersRefused),
		counter("malformed_total", "Malformed peer commands and tracker messages.", &c.malformed),
		counter("dropped_total", "Announcements coalesced for backed-up peers and tracker messages dropped on a full queue.", &c.dropped),
		counter("stalled_total", "Peers closed because they stopped draining.", &c.stalled),
		counter("tracker_connects_total", "Tracker WebSocket connections made.", &c.trackerConnects),
	} {
		if err := reg.Register(col); err != nil {
			return fmt.Errorf("superpeer: register metrics: %w", err)
		}
	}
	return nil
}
