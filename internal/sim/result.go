package sim

import (
	"math"
	"time"
)

// Result is what a run measured. Shares are percentages of the segment
// bytes viewers received; rates are Mbit/s; times are seconds.
type Result struct {
	Config   ConfigSummary `json:"config"`
	Tree     TreeSummary   `json:"tree"`
	Viewers  ViewerSummary `json:"viewers"`
	Run      Window        `json:"run"`    // the whole run
	Steady   Window        `json:"steady"` // from Config.Warmup on
	TTFS     Quantiles     `json:"time_to_first_segment_s"`
	Requests Requests      `json:"requests"`
	Series   Series        `json:"series"`
	TTFSCDF  XY            `json:"ttfs_cdf"` // seconds → % of viewers that had their first segment
}

// ConfigSummary echoes the configuration in readable units.
type ConfigSummary struct {
	Viewers, Relays  int
	RelayUpload      string
	ViewerUpload     string
	ViewerDownload   string
	Direct           float64
	ChurnPerMin      float64
	SegmentS         float64
	BitrateMbps      float64
	TreeRateMbps     float64
	SegmentBytes     int64
	DurationS        float64
	JoinOverS        float64
	WarmupS          float64
	Seed             uint64
	Mode             string
	RTTms            float64
	PeerSetupS       float64
	AnnounceInterval float64
	Offers           int
	OriginChildren   int
	RelayChildren    int
	Pick             string
	Pages            string
	MaxPeers         int
	RelayMaxBrowsers int
	WhatIf           WhatIf // zero: the shipped player
}

// TreeSummary describes the relay tree the tracker built.
type TreeSummary struct {
	Attached       int     // relays connected to the origin
	FirstLevel     int     // the origin's children
	MaxDepth       int     // hops from the origin to the deepest relay
	MaxLagS        float64 // seal to the last relay having a segment
	BrowserSlots   int     // Σ relays' max browsers
	BrowsersServed int     // Σ relays' browser connections at the end
}

// ViewerSummary counts viewers.
type ViewerSummary struct {
	Joined     int64 // including replacements under churn
	Direct     int64 // of those, able to connect to other viewers
	Started    int64 // of those, got a first segment
	PeakOnline int
	MeanPeers  float64 // connections per online viewer at the end (relays included)
}

// Window holds the metrics of one measurement window.
type Window struct {
	FromS, ToS         float64
	OriginShare        float64 // % over HTTP from the origin
	RelayHTTPShare     float64 // % over HTTP from relay nodes (players whose page is on a relay)
	RelayP2PShare      float64 // % from relay nodes as super-peers
	PeerShare          float64 // % from other viewers
	P2PShare           float64 // relay P2P + peer
	RelayShare         float64 // relay HTTP + relay P2P (loadgen's relay_share)
	RelayPeerShare     float64 // everything not from the origin (loadgen's relay_peer_share)
	ViewerBytes        int64   // all segment bytes viewers received
	OriginEgressBytes  int64   // HTTP to viewers + pushes to first-level relays
	OriginEgressMbps   float64 // mean over the window
	BoundMbps          float64 // mean of the bound over the window
	EgressOverBound    float64
	EgressPctOfNr      float64 // origin egress as % of Viewers × r (the HTTP-only egress)
	WatchS             float64 // viewer-seconds of playback (started viewers) in the window
	Continuity         float64 // % of watch time not stalled
	StallsPerViewerMin float64
	LatencyP50S        float64 // live latency (capture to playhead), sampled every bucket
	LatencyP95S        float64
}

// Quantiles of a distribution.
type Quantiles struct{ P50, P95 float64 }

// Series are per-bucket time series (X: seconds since the stream began).
type Series struct {
	T           []float64
	OriginShare []float64 // % of the bucket's viewer bytes
	RelayShare  []float64 // relay HTTP + P2P
	PeerShare   []float64
	EgressMbps  []float64 // origin egress in the bucket
	BoundMbps   []float64 // the bound at the end of the bucket
}

// XY is a curve.
type XY struct{ X, Y []float64 }

func (a *accum) result(s *sim) *Result {
	c := s.c
	segBytes := int64(math.Round(s.segBits / 8))
	res := &Result{
		Config: ConfigSummary{
			Viewers: c.Viewers, Relays: c.Relays, RelayUpload: c.RelayUpload.String(),
			ViewerUpload: c.ViewerUpload.String(), ViewerDownload: c.ViewerDownload.String(),
			Direct: c.Direct, ChurnPerMin: c.ChurnPerMin, SegmentS: c.Segment.Seconds(),
			BitrateMbps: c.Bitrate / 1e6, TreeRateMbps: c.TreeRate / 1e6, SegmentBytes: segBytes, DurationS: c.Duration.Seconds(),
			JoinOverS: c.JoinOver.Seconds(), WarmupS: c.Warmup.Seconds(), Seed: c.Seed, Mode: string(c.Mode),
			RTTms: float64(c.RTT) / 1e6, PeerSetupS: c.PeerSetup.Seconds(),
			AnnounceInterval: c.AnnounceInterval.Seconds(), Offers: c.Offers,
			OriginChildren: c.OriginChildren, RelayChildren: c.RelayChildren, Pick: c.Pick,
			Pages: c.Pages, MaxPeers: c.MaxPeers, RelayMaxBrowsers: c.RelayMaxBrowsers, WhatIf: c.WhatIf,
		},
		Viewers:  ViewerSummary{Joined: a.joined, Direct: a.direct, Started: a.started, PeakOnline: a.peakOnline},
		Run:      a.run.window(s, s.first, s.end, segBytes),
		Steady:   a.steady.window(s, s.warm, s.end, segBytes),
		TTFS:     Quantiles{P50: a.ttfs.quantile(0.5), P95: a.ttfs.quantile(0.95)},
		Requests: a.req,
	}
	t := &res.Tree
	t.Attached, t.FirstLevel = a.attached, int(a.rootKids)
	for _, rl := range s.relays {
		t.MaxDepth = max(t.MaxDepth, rl.depth)
		t.MaxLagS = math.Max(t.MaxLagS, float64(rl.lag)/1e9)
		t.BrowserSlots += rl.maxBrowsers
		t.BrowsersServed += rl.browsers
	}
	var peers, online int
	for i := range s.vs {
		if v := &s.vs[i]; v.alive {
			online++
			for _, n := range v.nbrs {
				if n.i < 0 || (s.vs[n.i].alive && s.vs[n.i].gen == n.gen) {
					peers++
				}
			}
		}
	}
	res.Viewers.MeanPeers = round(float64(peers)/float64(max(1, online)), 2)
	bs := time.Duration(c.Bucket).Seconds()
	for i, b := range a.buckets {
		if int64(i+1)*int64(c.Bucket) <= s.first {
			continue
		}
		if int64(i)*int64(c.Bucket) >= s.end {
			break
		}
		total := float64(b.segs[srcHTTP] + b.segs[srcRelayHTTP] + b.segs[srcRelay] + b.segs[srcPeer])
		sr := &res.Series
		sr.T = append(sr.T, float64(i+1)*bs-float64(s.first)/1e9)
		sr.OriginShare = append(sr.OriginShare, pct(float64(b.segs[srcHTTP]), total))
		sr.RelayShare = append(sr.RelayShare, pct(float64(b.segs[srcRelay]+b.segs[srcRelayHTTP]), total))
		sr.PeerShare = append(sr.PeerShare, pct(float64(b.segs[srcPeer]), total))
		sr.EgressMbps = append(sr.EgressMbps, round((float64(b.segs[srcHTTP])*s.segBits+float64(b.pushes)*s.treeBits())/bs/1e6, 3))
		sr.BoundMbps = append(sr.BoundMbps, round(b.bound/1e6, 3))
	}
	if n := a.ttfs.count(); n > 0 {
		var seen int64
		for i, cnt := range a.ttfs.bins {
			if cnt == 0 {
				continue
			}
			seen += cnt
			res.TTFSCDF.X = append(res.TTFSCDF.X, float64(int64(i+1)*histBin)/1e9)
			res.TTFSCDF.Y = append(res.TTFSCDF.Y, round(100*float64(seen)/float64(n), 3))
		}
	}
	return res
}

func (w *win) window(s *sim, from, to int64, segBytes int64) Window {
	viewer := w.segs[srcHTTP] + w.segs[srcRelayHTTP] + w.segs[srcRelay] + w.segs[srcPeer]
	secsWin := float64(to-from) / 1e9
	egressBits := float64(w.segs[srcHTTP])*s.segBits + float64(w.pushes)*s.treeBits()
	out := Window{
		FromS: float64(from-s.first) / 1e9, ToS: float64(to-s.first) / 1e9,
		OriginShare:       pct(float64(w.segs[srcHTTP]), float64(viewer)),
		RelayHTTPShare:    pct(float64(w.segs[srcRelayHTTP]), float64(viewer)),
		RelayP2PShare:     pct(float64(w.segs[srcRelay]), float64(viewer)),
		PeerShare:         pct(float64(w.segs[srcPeer]), float64(viewer)),
		P2PShare:          pct(float64(w.segs[srcRelay]+w.segs[srcPeer]), float64(viewer)),
		RelayShare:        pct(float64(w.segs[srcRelay]+w.segs[srcRelayHTTP]), float64(viewer)),
		RelayPeerShare:    pct(float64(viewer-w.segs[srcHTTP]), float64(viewer)),
		ViewerBytes:       viewer * segBytes,
		OriginEgressBytes: int64(math.Round(egressBits / 8)),
		OriginEgressMbps:  round(egressBits/secsWin/1e6, 3),
		WatchS:            round(float64(w.watch)/1e9, 3),
		LatencyP50S:       w.latency.quantile(0.5),
		LatencyP95S:       w.latency.quantile(0.95),
	}
	out.EgressPctOfNr = round(100*egressBits/secsWin/(float64(s.c.Viewers)*s.c.Bitrate), 3)
	if w.samples > 0 {
		out.BoundMbps = round(w.boundSum/float64(w.samples)/1e6, 3)
		out.EgressOverBound = round(out.OriginEgressMbps/math.Max(out.BoundMbps, 1e-9), 3)
	}
	if w.watch > 0 {
		out.Continuity = round(100*(1-float64(w.stalled)/float64(w.watch)), 3)
		out.StallsPerViewerMin = round(float64(w.stalls)/(float64(w.watch)/float64(time.Minute)), 4)
	}
	return out
}

func pct(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round(100*a/b, 3)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
