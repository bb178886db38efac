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
	// Renditions breaks the audience mix down (only with
	// Config.Renditions).
	Renditions []RenditionResult `json:"renditions,omitempty"`
}

// RenditionResult is one rendition's swarm. Shares are of the bytes its
// viewers received.
type RenditionResult struct {
	Name        string
	RateMbps    float64
	Weight      float64 // configured share of viewers
	Joined      int64   // viewers that drew it (replacements included)
	RunWatchS   float64 // viewer-seconds of playback, whole run
	RunBytes    int64   // segment bytes its viewers received, whole run
	OriginShare float64 // steady: % over HTTP from the origin
	RelayShare  float64 // steady: % from relay nodes (HTTP + P2P)
	PeerShare   float64 // steady: % from viewers of the same rendition
	Continuity  float64 // steady
	OriginMbps  float64 // steady: origin HTTP to its viewers
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
	Renditions       string `json:",omitempty"` // the audience mix, if any
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
	FromS, ToS        float64
	OriginShare       float64 // % over HTTP from the origin
	RelayHTTPShare    float64 // % over HTTP from relay nodes (players whose page is on a relay)
	RelayP2PShare     float64 // % from relay nodes as super-peers
	PeerShare         float64 // % from other viewers
	P2PShare          float64 // relay P2P + peer
	RelayShare        float64 // relay HTTP + relay P2P (loadgen's relay_share)
	RelayPeerShare    float64 // everything not from the origin (loadgen's relay_peer_share)
	ViewerBytes       int64   // all segment bytes viewers received
	OriginEgressBytes int64   // HTTP to viewers + pushes to first-level relays
	OriginEgressMbps  float64 // mean over the window
	BoundMbps         float64 // mean of the bound over the window
	EgressOverBound   float64
	// With an audience mix: the aggregate bound max(Σ r_i, Σ N_i·r_i − Σu)
	// (a looser lower bound; BoundMbps is the per-swarm one) and egress
	// over it.
	BoundAggregateMbps       float64 `json:",omitempty"`
	EgressOverBoundAggregate float64 `json:",omitempty"`
	EgressPctOfNr            float64 // origin egress as % of Viewers × r (the HTTP-only egress)
	WatchS                   float64 // viewer-seconds of playback (started viewers) in the window
	Continuity               float64 // % of watch time not stalled
	StallsPerViewerMin       float64
	LatencyP50S              float64 // live latency (capture to playhead), sampled every bucket
	LatencyP95S              float64
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
	segBytes := int64(math.Round(c.Bitrate * c.Segment.Seconds() / 8))
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
		Run:      a.run.window(s, s.first, s.end),
		Steady:   a.steady.window(s, s.warm, s.end),
		TTFS:     Quantiles{P50: a.ttfs.quantile(0.5), P95: a.ttfs.quantile(0.95)},
		Requests: a.req,
	}
	res.Renditions = a.renditions(s)
	if len(c.Renditions) > 0 {
		res.Config.Renditions = MixString(c.Renditions)
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
		u := s.units(b.segs)
		total := u[srcHTTP] + u[srcRelayHTTP] + u[srcRelay] + u[srcPeer]
		sr := &res.Series
		sr.T = append(sr.T, float64(i+1)*bs-float64(s.first)/1e9)
		sr.OriginShare = append(sr.OriginShare, pct(u[srcHTTP], total))
		sr.RelayShare = append(sr.RelayShare, pct(u[srcRelay]+u[srcRelayHTTP], total))
		sr.PeerShare = append(sr.PeerShare, pct(u[srcPeer], total))
		sr.EgressMbps = append(sr.EgressMbps, round((s.httpBits(b.segs)+float64(b.pushes)*s.treeBits())/bs/1e6, 3))
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

// units weighs segment counts by rendition into segments of rends[0] (by
// source): byte shares of a mixed audience, plain counts with one
// rendition.
func (s *sim) units(segs [][nSrc]int64) [nSrc]float64 {
	var u [nSrc]float64
	for rd := range segs {
		w := s.weight(uint8(rd))
		for src := range u {
			u[src] += float64(segs[rd][src]) * w
		}
	}
	return u
}

// httpBits is the bits the origin sent viewers over HTTP.
func (s *sim) httpBits(segs [][nSrc]int64) float64 {
	var b float64
	for rd := range segs {
		b += float64(segs[rd][srcHTTP]) * s.rends[rd].segBits
	}
	return b
}

func segBytes(segBits float64) int64 { return int64(math.Round(segBits / 8)) }

func (w *win) window(s *sim, from, to int64) Window {
	u := s.units(w.segs)
	viewer := u[srcHTTP] + u[srcRelayHTTP] + u[srcRelay] + u[srcPeer]
	var viewerBytes, watch, stalled int64
	for rd := range w.segs {
		n := w.segs[rd][srcHTTP] + w.segs[rd][srcRelayHTTP] + w.segs[rd][srcRelay] + w.segs[rd][srcPeer]
		viewerBytes += n * segBytes(s.rends[rd].segBits)
		watch += w.watch[rd]
		stalled += w.stalled[rd]
	}
	secsWin := float64(to-from) / 1e9
	egressBits := s.httpBits(w.segs) + float64(w.pushes)*s.treeBits()
	out := Window{
		FromS: float64(from-s.first) / 1e9, ToS: float64(to-s.first) / 1e9,
		OriginShare:       pct(u[srcHTTP], viewer),
		RelayHTTPShare:    pct(u[srcRelayHTTP], viewer),
		RelayP2PShare:     pct(u[srcRelay], viewer),
		PeerShare:         pct(u[srcPeer], viewer),
		P2PShare:          pct(u[srcRelay]+u[srcPeer], viewer),
		RelayShare:        pct(u[srcRelay]+u[srcRelayHTTP], viewer),
		RelayPeerShare:    pct(viewer-u[srcHTTP], viewer),
		ViewerBytes:       viewerBytes,
		OriginEgressBytes: int64(math.Round(egressBits / 8)),
		OriginEgressMbps:  round(egressBits/secsWin/1e6, 3),
		WatchS:            round(float64(watch)/1e9, 3),
		LatencyP50S:       w.latency.quantile(0.5),
		LatencyP95S:       w.latency.quantile(0.95),
	}
	out.EgressPctOfNr = round(100*egressBits/secsWin/(float64(s.c.Viewers)*s.c.meanRate()), 3)
	if w.samples > 0 {
		out.BoundMbps = round(w.boundSum/float64(w.samples)/1e6, 3)
		out.EgressOverBound = round(out.OriginEgressMbps/math.Max(out.BoundMbps, 1e-9), 3)
		if len(s.c.Renditions) > 0 {
			out.BoundAggregateMbps = round(w.aggSum/float64(w.samples)/1e6, 3)
			out.EgressOverBoundAggregate = round(out.OriginEgressMbps/math.Max(out.BoundAggregateMbps, 1e-9), 3)
		}
	}
	if watch > 0 {
		out.Continuity = round(100*(1-float64(stalled)/float64(watch)), 3)
		out.StallsPerViewerMin = round(float64(w.stalls)/(float64(watch)/float64(time.Minute)), 4)
	}
	return out
}

// renditions breaks the run down by rendition (only with a mix).
func (a *accum) renditions(s *sim) []RenditionResult {
	if len(s.c.Renditions) == 0 {
		return nil
	}
	secsSteady := float64(s.end-s.warm) / 1e9
	out := make([]RenditionResult, len(s.rends))
	for rd, r := range s.rends {
		run, st := a.run.segs[rd], a.steady.segs[rd]
		n := float64(st[srcHTTP] + st[srcRelayHTTP] + st[srcRelay] + st[srcPeer])
		o := RenditionResult{
			Name: r.Name, RateMbps: r.Rate / 1e6, Weight: round(r.Weight, 4), Joined: a.joinedR[rd],
			RunWatchS:   round(float64(a.run.watch[rd])/1e9, 3),
			RunBytes:    (run[srcHTTP] + run[srcRelayHTTP] + run[srcRelay] + run[srcPeer]) * segBytes(r.segBits),
			OriginShare: pct(float64(st[srcHTTP]), n),
			RelayShare:  pct(float64(st[srcRelayHTTP]+st[srcRelay]), n),
			PeerShare:   pct(float64(st[srcPeer]), n),
			OriginMbps:  round(float64(st[srcHTTP])*r.segBits/secsSteady/1e6, 3),
		}
		if w := a.steady.watch[rd]; w > 0 {
			o.Continuity = round(100*(1-float64(a.steady.stalled[rd])/float64(w)), 3)
		}
		out[rd] = o
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
