package loadgen

import (
	"math"
	"slices"
	"time"
)

// Source is where a segment's bytes came from.
type Source int

// Sources of segment bytes.
const (
	FromOrigin    Source = iota // HTTP from the origin
	FromRelayHTTP               // HTTP from a relay node
	FromRelayP2P                // data channel from a relay super-peer
	FromViewer                  // data channel from another viewer
	numSources
)

// ViewerStats is one viewer's counters.
type ViewerStats struct {
	ID     int       `json:"id"`
	NAT    bool      `json:"nat"` // could not connect to other viewers
	Page   string    `json:"page"`
	Joined time.Time `json:"joined"`
	Left   time.Time `json:"left,omitzero"`

	// Bytes received, by source (init and media segments; what the page
	// counts as HTTP or P2P traffic, checked or not).
	BytesOrigin    int64 `json:"bytes_origin"`
	BytesRelayHTTP int64 `json:"bytes_relay_http"`
	BytesRelayP2P  int64 `json:"bytes_relay_p2p"`
	BytesViewer    int64 `json:"bytes_viewer"`
	BytesUploaded  int64 `json:"bytes_uploaded"`
	// Segments that passed verification, by source.
	SegsOrigin    int `json:"segments_origin"`
	SegsRelayHTTP int `json:"segments_relay_http"`
	SegsRelayP2P  int `json:"segments_relay_p2p"`
	SegsViewer    int `json:"segments_viewer"`
	SegsUploaded  int `json:"segments_uploaded"`

	TTFS         time.Duration `json:"ttfs_ns"` // start to first media segment loaded; 0: none
	Stalls       int           `json:"stalls"`
	StallTime    time.Duration `json:"stall_ns"`
	PlayTime     time.Duration `json:"play_ns"`
	Jumps        int           `json:"jumps"` // live jumps back to the target latency
	LatencySum   time.Duration `json:"latency_sum_ns"`
	LatencyN     int           `json:"latency_samples"`
	VerifyFailed int           `json:"verify_failed"`
	BadRecords   int           `json:"bad_records"`
	PeersNow     int           `json:"peers_now"`
	PeersEver    int           `json:"peers_ever"`
	RelayPeers   int           `json:"relay_peers_ever"`
	P2PTimeouts  int           `json:"p2p_timeouts"`
	Err          string        `json:"error,omitempty"`
	// StalledNow: the playhead waits for a segment at the moment of the
	// snapshot.
	StalledNow bool         `json:"-"`
	StallLog   []StallEvent `json:"stall_log,omitempty"`
}

func (s *ViewerStats) addBytes(src Source, n int64) {
	switch src {
	case FromOrigin:
		s.BytesOrigin += n
	case FromRelayHTTP:
		s.BytesRelayHTTP += n
	case FromRelayP2P:
		s.BytesRelayP2P += n
	case FromViewer:
		s.BytesViewer += n
	}
}

func (s *ViewerStats) addSegment(src Source) {
	switch src {
	case FromOrigin:
		s.SegsOrigin++
	case FromRelayHTTP:
		s.SegsRelayHTTP++
	case FromRelayP2P:
		s.SegsRelayP2P++
	case FromViewer:
		s.SegsViewer++
	}
}

// Totals aggregates viewers.
type Totals struct {
	Viewers        int   `json:"viewers"`
	BytesOrigin    int64 `json:"bytes_origin"`
	BytesRelayHTTP int64 `json:"bytes_relay_http"`
	BytesRelayP2P  int64 `json:"bytes_relay_p2p"`
	BytesViewer    int64 `json:"bytes_viewer"`
	BytesUploaded  int64 `json:"bytes_uploaded"`
	Segments       int   `json:"segments"`
	SegsViewer     int   `json:"segments_viewer"`

	P2PShare       float64 `json:"p2p_share"`        // (relay P2P + viewer P2P) / all
	RelayShare     float64 `json:"relay_share"`      // (relay HTTP + relay P2P) / all
	RelayPeerShare float64 `json:"relay_peer_share"` // everything but origin HTTP / all
	ViewerShare    float64 `json:"viewer_share"`     // viewer P2P / all

	Continuity   float64       `json:"continuity"` // play time / (play + stall time)
	Stalls       int           `json:"stalls"`
	StallTime    time.Duration `json:"stall_ns"`
	PlayTime     time.Duration `json:"play_ns"`
	Jumps        int           `json:"jumps"`
	TTFSp50      time.Duration `json:"ttfs_p50_ns"`
	TTFSp95      time.Duration `json:"ttfs_p95_ns"`
	NoFirst      int           `json:"no_first_segment"` // viewers that never got one
	LatencyMean  time.Duration `json:"latency_mean_ns"`
	LatencyP50   time.Duration `json:"latency_p50_ns"` // of per-viewer means
	LatencyP95   time.Duration `json:"latency_p95_ns"`
	VerifyFailed int           `json:"verify_failed"`
	BadRecords   int           `json:"bad_records"`
	P2PTimeouts  int           `json:"p2p_timeouts"`
	PeersMean    float64       `json:"peers_mean"`
	Errors       int           `json:"errors"`
}

// Aggregate sums viewers' stats.
func Aggregate(vs []ViewerStats) Totals {
	var t Totals
	var ttfs, lat []time.Duration
	var latSum time.Duration
	var latN, peers int
	for _, v := range vs {
		t.Viewers++
		t.BytesOrigin += v.BytesOrigin
		t.BytesRelayHTTP += v.BytesRelayHTTP
		t.BytesRelayP2P += v.BytesRelayP2P
		t.BytesViewer += v.BytesViewer
		t.BytesUploaded += v.BytesUploaded
		t.Segments += v.SegsOrigin + v.SegsRelayHTTP + v.SegsRelayP2P + v.SegsViewer
		t.SegsViewer += v.SegsViewer
		t.Stalls += v.Stalls
		t.StallTime += v.StallTime
		t.PlayTime += v.PlayTime
		t.Jumps += v.Jumps
		t.VerifyFailed += v.VerifyFailed
		t.BadRecords += v.BadRecords
		t.P2PTimeouts += v.P2PTimeouts
		peers += v.PeersNow
		if v.Err != "" {
			t.Errors++
		}
		if v.TTFS > 0 {
			ttfs = append(ttfs, v.TTFS)
		} else {
			t.NoFirst++
		}
		if v.LatencyN > 0 {
			lat = append(lat, v.LatencySum/time.Duration(v.LatencyN))
			latSum += v.LatencySum
			latN += v.LatencyN
		}
	}
	all := t.BytesOrigin + t.BytesRelayHTTP + t.BytesRelayP2P + t.BytesViewer
	if all > 0 {
		f := float64(all)
		t.P2PShare = float64(t.BytesRelayP2P+t.BytesViewer) / f
		t.RelayShare = float64(t.BytesRelayHTTP+t.BytesRelayP2P) / f
		t.RelayPeerShare = float64(all-t.BytesOrigin) / f
		t.ViewerShare = float64(t.BytesViewer) / f
	}
	t.Continuity = 1
	if tot := t.PlayTime + t.StallTime; tot > 0 {
		t.Continuity = float64(t.PlayTime) / float64(tot)
	}
	t.TTFSp50, t.TTFSp95 = Percentile(ttfs, 0.5), Percentile(ttfs, 0.95)
	t.LatencyP50, t.LatencyP95 = Percentile(lat, 0.5), Percentile(lat, 0.95)
	if latN > 0 {
		t.LatencyMean = latSum / time.Duration(latN)
	}
	if t.Viewers > 0 {
		t.PeersMean = float64(peers) / float64(t.Viewers)
	}
	return t
}

// Percentile returns the p-quantile (0..1, nearest rank) of ds; 0 when empty.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}
