package loadgen

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/canopylive/canopy/internal/playrules"
)

// RunParams configures one load run.
type RunParams struct {
	Label  string
	Shared *Shared
	// Pages are the page servers viewers load from, assigned round-robin.
	Pages     []string
	Stream    string
	Rendition string
	Mode      playrules.Mode
	Viewers   int
	Duration  time.Duration // from the first viewer's start
	Ramp      time.Duration // viewers start evenly over this time
	// Churn is the share of viewers that leave per minute, each replaced
	// by a new one at once.
	Churn float64
	// NATShare of viewers cannot connect to other viewers.
	NATShare  float64
	UploadBps int64
	MaxPeers  int
	Offers    int
	P2P       bool
	// Egress returns the origin's cumulative egress (for instance
	// ScrapeEgress on its /metrics); nil: not measured.
	Egress func(context.Context) (Egress, error)
	// Progress receives a progress bar (TTY) or periodic lines; nil: none.
	Progress io.Writer
	TTY      bool
	Logger   *slog.Logger
}

// Sample is the state of a run at one moment; shares are over the bytes
// received since the previous sample.
type Sample struct {
	T              float64 `json:"t_s"`
	Active         int     `json:"active"`
	P2PShare       float64 `json:"p2p_share"`
	RelayShare     float64 `json:"relay_share"`
	RelayPeerShare float64 `json:"relay_peer_share"`
	ClientBps      float64 `json:"client_bps"`        // all bytes viewers received, per second
	OriginBps      float64 `json:"origin_bps"`        // origin egress (its /metrics, HTTP + tree), per second
	OriginTreeBps  float64 `json:"origin_tree_bps"`   // the part pushed to relay nodes
	OriginHTTPBps  float64 `json:"origin_client_bps"` // origin HTTP bytes viewers counted, per second
	Stalled        int     `json:"stalled"`           // viewers waiting for a segment at the sample
	StallShare     float64 `json:"stall_share"`       // stall time / watch time since the previous sample
}

// Result is what a run measured.
type Result struct {
	Label        string        `json:"label"`
	Viewers      int           `json:"viewers"`
	P2P          bool          `json:"p2p"`
	Duration     time.Duration `json:"duration_ns"`
	Totals       Totals        `json:"totals"`
	OriginEgress int64         `json:"origin_egress_bytes"` // /metrics delta, HTTP + tree; -1 when not measured
	// OriginParts splits OriginEgress (when measured).
	OriginParts Egress `json:"origin_egress"`
	// OriginClient is origin HTTP bytes as the viewers counted them.
	OriginClient int64         `json:"origin_client_bytes"`
	Samples      []Sample      `json:"samples"`
	PerViewer    []ViewerStats `json:"per_viewer"`
	CPU          time.Duration `json:"cpu_ns,omitempty"` // this process, set by the caller
}

// Run starts the viewers, keeps them going with churn for p.Duration,
// then stops them and returns what they measured.
func Run(ctx context.Context, p RunParams) (Result, error) {
	if p.Shared == nil || len(p.Pages) == 0 || p.Viewers <= 0 || p.Duration <= 0 {
		return Result{}, fmt.Errorf("%w: run needs Shared, Pages, Viewers and Duration", ErrInvalidParams)
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &run{p: p, log: log, active: map[*Viewer]context.CancelFunc{}}
	return r.run(ctx)
}

type run struct {
	p   RunParams
	log *slog.Logger

	mu     sync.Mutex
	nextID int
	active map[*Viewer]context.CancelFunc
	gone   []ViewerStats
	wg     sync.WaitGroup
}

// start launches one more viewer.
func (r *run) start(ctx context.Context) {
	r.mu.Lock()
	id := r.nextID
	r.nextID++
	r.mu.Unlock()
	v, err := NewViewer(ViewerParams{
		Shared: r.p.Shared, ID: id, Page: r.p.Pages[id%len(r.p.Pages)], Stream: r.p.Stream,
		Rendition: r.p.Rendition, Mode: r.p.Mode, P2P: r.p.P2P, NAT: r.p.P2P && rand.Float64() < r.p.NATShare,
		UploadBps: r.p.UploadBps, MaxPeers: r.p.MaxPeers, Offers: r.p.Offers,
	})
	if err != nil {
		r.log.Warn("viewer not created", "err", err)
		return
	}
	vctx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	r.active[v] = cancel
	r.mu.Unlock()
	r.wg.Go(func() {
		if err := v.Run(vctx); err != nil && vctx.Err() == nil {
			r.log.Debug("viewer ended", "id", id, "err", err)
		}
		cancel()
		st := v.Stats()
		r.mu.Lock()
		delete(r.active, v)
		r.gone = append(r.gone, st)
		r.mu.Unlock()
	})
}

// leave stops one random active viewer.
func (r *run) leave() {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := rand.IntN(max(len(r.active), 1))
	for _, cancel := range r.active {
		if n == 0 {
			cancel()
			return
		}
		n--
	}
}

func (r *run) snapshot() ([]ViewerStats, int) {
	r.mu.Lock()
	vs := make([]*Viewer, 0, len(r.active))
	for v := range r.active {
		vs = append(vs, v)
	}
	out := append([]ViewerStats(nil), r.gone...)
	r.mu.Unlock()
	for _, v := range vs {
		out = append(out, v.Stats())
	}
	return out, len(vs)
}

func (r *run) egress(ctx context.Context) (Egress, bool) {
	if r.p.Egress == nil {
		return Egress{}, false
	}
	e, err := r.p.Egress(ctx)
	if err != nil {
		r.log.Warn("origin egress not read", "err", err)
		return Egress{}, false
	}
	return e, true
}

func (r *run) run(ctx context.Context) (Result, error) {
	p := r.p
	res := Result{Label: p.Label, Viewers: p.Viewers, P2P: p.P2P}
	egress0, ok0 := r.egress(ctx)
	vctx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	begin := time.Now()
	end := begin.Add(p.Duration)
	prog := newProgress(p.Progress, p.TTY, p.Label, p.Duration)

	started := 0
	var churnEvery time.Duration
	if p.Churn > 0 {
		churnEvery = time.Duration(float64(time.Minute) / (p.Churn * float64(p.Viewers)))
	}
	nextChurn := begin.Add(p.Ramp)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastSample := begin
	var prevTotals Totals
	prevEgress, prevOK := egress0, ok0
	for now := begin; now.Before(end); now = time.Now() {
		for started < p.Viewers && (p.Ramp <= 0 || now.Sub(begin) >= time.Duration(int64(p.Ramp)*int64(started)/int64(p.Viewers))) {
			r.start(vctx)
			started++
		}
		for churnEvery > 0 && !now.Before(nextChurn) {
			r.leave()
			r.start(vctx)
			nextChurn = nextChurn.Add(churnEvery)
		}
		if now.Sub(lastSample) >= time.Second {
			vs, active := r.snapshot()
			t := Aggregate(vs)
			eg, egOK := r.egress(ctx)
			dt := now.Sub(lastSample).Seconds()
			s := intervalSample(prevTotals, t, dt)
			s.T, s.Active = now.Sub(begin).Seconds(), active
			for _, v := range vs {
				if v.StalledNow && v.Left.IsZero() {
					s.Stalled++
				}
			}
			if egOK && prevOK {
				d := eg.Sub(prevEgress)
				s.OriginBps, s.OriginTreeBps = float64(d.Total())/dt, float64(d.Tree)/dt
			}
			res.Samples = append(res.Samples, s)
			prevTotals, prevEgress, prevOK, lastSample = t, eg, egOK, now
			prog.update(now.Sub(begin), active, t)
		}
		select {
		case <-ctx.Done():
			stopAll()
			r.wg.Wait()
			prog.done()
			return res, ctx.Err()
		case <-tick.C:
		}
	}
	egress1, ok1 := r.egress(ctx)
	live, _ := r.snapshot()
	stopAll()
	r.wg.Wait()
	prog.done()
	res.Duration = time.Since(begin)
	// Final counters of every viewer (stopping adds nothing to them).
	vs, _ := r.snapshot()
	res.PerViewer = vs
	res.Totals = Aggregate(vs)
	// Peers per viewer is only meaningful while they play.
	var peers, playing int
	for _, v := range live {
		if v.Left.IsZero() {
			peers += v.PeersNow
			playing++
		}
	}
	if playing > 0 {
		res.Totals.PeersMean = float64(peers) / float64(playing)
	}
	res.OriginClient = res.Totals.BytesOrigin
	res.OriginEgress = -1
	if ok0 && ok1 {
		res.OriginParts = egress1.Sub(egress0)
		res.OriginEgress = res.OriginParts.Total()
	}
	return res, nil
}

// intervalSample computes the shares of the bytes received between two
// aggregates.
func intervalSample(prev, cur Totals, dt float64) Sample {
	o := cur.BytesOrigin - prev.BytesOrigin
	rh := cur.BytesRelayHTTP - prev.BytesRelayHTTP
	rp := cur.BytesRelayP2P - prev.BytesRelayP2P
	vw := cur.BytesViewer - prev.BytesViewer
	all := o + rh + rp + vw
	s := Sample{}
	if all > 0 {
		f := float64(all)
		s.P2PShare = float64(rp+vw) / f
		s.RelayShare = float64(rh+rp) / f
		s.RelayPeerShare = float64(all-o) / f
	}
	if w := (cur.PlayTime + cur.StallTime) - (prev.PlayTime + prev.StallTime); w > 0 {
		s.StallShare = float64(cur.StallTime-prev.StallTime) / float64(w)
	}
	if dt > 0 {
		s.ClientBps = float64(all) / dt
		s.OriginHTTPBps = float64(o) / dt
	}
	return s
}
