package loadgen

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/canopylive/canopy/internal/playrules"
	"github.com/canopylive/canopy/node/superpeer"
)

// ViewerParams configures one viewer.
type ViewerParams struct {
	Shared *Shared
	ID     int
	// Page is the base URL of the server the player page came from (the
	// origin or a relay node): streams API, player API, playlists,
	// records and HTTP segments all come from there.
	Page      string
	Stream    string
	Rendition string // "" picks the lowest bandwidth
	Mode      playrules.Mode
	// P2P joins the swarm; false plays over HTTP only.
	P2P bool
	// NAT: the viewer never completes WebRTC with another viewer (only
	// with relay super-peers), like one behind a symmetric NAT.
	NAT bool
	// UploadBps caps what the viewer uploads to peers (bytes/s; 0: none).
	UploadBps int64
	// MaxPeers bounds the viewer's peer connections (open or connecting).
	MaxPeers int
	// Offers is how many offers each tracker announce carries (p2pml: 5).
	Offers int
}

// Timings of the viewer (p2pconfig.js and p2p-media-loader defaults).
const (
	tickEvery      = 150 * time.Millisecond
	keepBehind     = 30 * time.Second // played segments stay shareable (storage.js)
	offerTimeout   = 30 * time.Second
	connectTimeout = 15 * time.Second
	maxP2PErrors   = 3 // p2pErrorRetries
	maxLatencySegs = 5 // liveMaxLatencyDurationCount
)

// seg is one segment the viewer knows from the playlist.
type seg struct {
	seq      uint64
	dur      time.Duration
	pdt      time.Time
	uri      string
	data     []byte
	loaded   bool
	inflight playrules.Choice
	peer     *vpeer // P2P download in flight
	// rnd is the viewer's one random-seeding draw for this segment
	// (playrules.Choose wants the same draw on every re-evaluation).
	rnd      float64
	src      Source        // where the bytes came from, once loaded
	listedAt time.Time     // when the playlist first listed it
	lead     time.Duration // segment start minus playhead when listed
}

// Viewer is one headless player. Create it with NewViewer, run it with
// Run; Stats may be called at any time.
type Viewer struct {
	p      ViewerParams
	sh     *Shared
	peerID string
	book   *recordBook
	up     *bucket
	wake   chan struct{}

	// Set by setup, read-only afterwards.
	mediaURL, base string
	infoHash       string
	trackers       []string

	mu        sync.Mutex
	segs      map[uint64]*seg
	lastSeq   uint64
	listed    bool
	segDur    time.Duration
	haveStart bool
	startSeq  uint64
	startOff  time.Duration
	pb        playback
	httpBusy  int
	p2pBusy   int
	peers     map[string]*vpeer // open connections by remote peer id
	conns     map[*vpeer]bool   // every connection, open or not
	pending   map[string]*vpeer // own offers by offer id
	annDirty  bool
	lastLat   time.Time
	stalling  bool // the last StallLog entry is an open stall
	stats     ViewerStats
	closed    bool
	sendTrk   func([]byte) bool // current tracker session's sender
}

// NewViewer checks p and prepares a viewer.
func NewViewer(p ViewerParams) (*Viewer, error) {
	if p.Shared == nil || p.Page == "" || p.Stream == "" {
		return nil, fmt.Errorf("%w: viewer needs Shared, Page and Stream", ErrInvalidParams)
	}
	if p.Mode == "" {
		p.Mode = playrules.Normal
	}
	p.MaxPeers = max(p.MaxPeers, 1)
	p.Offers = max(p.Offers, 0)
	tail, err := superpeer.RandomString(12)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	v := &Viewer{
		p: p, sh: p.Shared,
		peerID:  "-PM0203-" + tail,
		wake:    make(chan struct{}, 1),
		segs:    map[uint64]*seg{},
		peers:   map[string]*vpeer{},
		conns:   map[*vpeer]bool{},
		pending: map[string]*vpeer{},
		segDur:  2 * time.Second,
		stats:   ViewerStats{ID: p.ID, NAT: p.NAT, Page: p.Page, Joined: now},
	}
	if p.UploadBps > 0 {
		v.up = newBucket(p.UploadBps, max(p.UploadBps/4, superpeer.MaxMessage), now)
	}
	v.base = strings.TrimRight(p.Page, "/")
	return v, nil
}

// Stats returns a snapshot of the viewer's counters.
func (v *Viewer) Stats() ViewerStats {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.stats
	s.Stalls, s.StallTime, s.PlayTime, s.Jumps = v.pb.stalls, v.pb.stallTime, v.pb.playTime, v.pb.jumps
	s.StalledNow = v.pb.stalled
	s.StallLog = append([]StallEvent(nil), v.stats.StallLog...)
	s.PeersNow = len(v.peers)
	if v.book != nil {
		s.BadRecords = v.book.badRecords()
	}
	return s
}

func (v *Viewer) kick() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// Run plays until ctx ends, then leaves the swarm.
func (v *Viewer) Run(ctx context.Context) error {
	defer v.shutdown()
	if err := v.setup(ctx); err != nil {
		v.mu.Lock()
		v.stats.Err = err.Error()
		v.mu.Unlock()
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { v.playlistLoop(ctx) })
	if v.p.P2P {
		wg.Go(func() { v.trackerLoop(ctx) })
	}
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-v.wake:
		}
		v.step(ctx, time.Now())
	}
}

// shutdown closes every peer connection.
func (v *Viewer) shutdown() {
	v.mu.Lock()
	v.closed = true
	v.stats.Left = time.Now()
	conns := make([]*vpeer, 0, len(v.conns))
	for c := range v.conns {
		conns = append(conns, c)
	}
	v.mu.Unlock()
	for _, c := range conns {
		c.close("viewer left")
	}
}

// segment implements timeline (v.mu held).
func (v *Viewer) segment(seq uint64) (time.Duration, time.Time, bool, bool) {
	s, ok := v.segs[seq]
	if !ok {
		return 0, time.Time{}, false, false
	}
	return s.dur, s.pdt, s.loaded, true
}

// edge implements timeline (v.mu held).
func (v *Viewer) edge() time.Time {
	s, ok := v.segs[v.lastSeq]
	if !ok {
		return time.Time{}
	}
	return s.pdt.Add(s.dur)
}

// playheadPDT is the wall-clock position the scheduler measures from: the
// playhead, or before playback the planned start.
func (v *Viewer) playheadPDT() (time.Time, bool) {
	seq, off := v.pb.seq, v.pb.off
	if !v.pb.started {
		if !v.haveStart {
			return time.Time{}, false
		}
		seq, off = v.startSeq, v.startOff
	}
	s, ok := v.segs[seq]
	if !ok {
		return time.Time{}, false
	}
	return s.pdt.Add(off), true
}

// step advances the playhead and makes the download decisions for now.
func (v *Viewer) step(ctx context.Context, now time.Time) {
	var out []func()
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	if !v.pb.started && v.haveStart {
		if s := v.segs[v.startSeq]; s != nil && s.loaded {
			v.pb.start(now, v.startSeq, v.startOff)
		}
	}
	v.pb.target, v.pb.slack = playrules.TargetLatency(v.p.Mode, v.segDur), v.segDur/4
	wasStalled, stallSeq := v.pb.stalled, v.pb.seq
	v.pb.advance(now, v)
	v.noteStall(now, wasStalled, stallSeq)
	if head, ok := v.playheadPDT(); ok && v.pb.started && v.edge().Sub(head) > maxLatencySegs*v.segDur {
		v.jumpToTarget()
	}
	if lat, ok := v.pb.latency(now, v); ok {
		if now.Sub(v.lastLat) >= time.Second {
			v.lastLat = now
			v.stats.LatencySum += lat
			v.stats.LatencyN++
		}
	}
	out = v.schedule(ctx, now, out)
	out = v.checkTimeouts(now, out)
	if v.annDirty {
		v.annDirty = false
		out = v.announceAll(out)
	}
	v.mu.Unlock()
	for _, f := range out {
		f()
	}
}

// jumpToTarget moves a playhead that fell too far behind back to the
// target latency, as hls.js does past liveMaxLatencyDurationCount.
func (v *Viewer) jumpToTarget() {
	// Only forward, as hls.js: when the playlist itself lags, the live
	// position is no closer to the edge than the playhead.
	seq, off, ok := v.livePosition()
	if ok && (seq > v.pb.seq || seq == v.pb.seq && off > v.pb.off+time.Second) {
		v.pb.seek(seq, off)
	}
}

// livePosition is the segment and offset at the target latency behind the
// live edge of the listed segments.
func (v *Viewer) livePosition() (uint64, time.Duration, bool) {
	last, ok := v.segs[v.lastSeq]
	if !ok {
		return 0, 0, false
	}
	at := last.pdt.Add(last.dur).Add(-playrules.TargetLatency(v.p.Mode, v.segDur))
	for seq := v.lastSeq; ; seq-- {
		s, ok := v.segs[seq]
		if !ok {
			return 0, 0, false
		}
		if !s.pdt.After(at) {
			return seq, min(at.Sub(s.pdt), s.dur), true
		}
		if seq == 0 {
			return 0, 0, false
		}
	}
}

// schedule applies playrules.Choose to every listed segment from the
// playhead to the live edge (v.mu held).
func (v *Viewer) schedule(ctx context.Context, now time.Time, out []func()) []func() {
	head, ok := v.playheadPDT()
	if !ok {
		return out
	}
	w := playrules.LiveWindows(v.p.Mode, v.segDur)
	from := v.startSeq
	if v.pb.started {
		from = v.pb.seq
	}
	for seq := from; seq <= v.lastSeq; seq++ {
		s := v.segs[seq]
		if s == nil || s.loaded {
			continue
		}
		st := playrules.SegmentState{
			StartsIn: s.pdt.Sub(head), InFlight: s.inflight, Peers: len(v.peers),
			HTTPBusy: v.httpBusy, HTTPSlots: playrules.HTTPSlots,
			P2PBusy: v.p2pBusy, P2PSlots: playrules.P2PSlots,
		}
		for _, p := range v.peers {
			if p.have[int64(seq)] {
				st.PeersHave++
			} else if p.loading[int64(seq)] {
				st.PeersLoading++
			}
		}
		switch playrules.Choose(w, st, s.rnd) {
		case playrules.HTTP:
			if s.inflight == playrules.P2P {
				out = v.abortP2P(s, out)
			}
			s.inflight = playrules.HTTP
			v.httpBusy++
			v.annDirty = true // now announced as loading over HTTP
			out = append(out, func() { go v.fetchSegment(ctx, s) })
		case playrules.P2P:
			if p := v.pickPeer(seq); p != nil {
				out = p.startDownload(s, now, out)
			}
		}
	}
	return out
}

// pickPeer returns a random open peer that announced seq and has no
// download in flight (v.mu held).
func (v *Viewer) pickPeer(seq uint64) *vpeer {
	var cands []*vpeer
	for _, p := range v.peers {
		if p.have[int64(seq)] && p.down == nil {
			cands = append(cands, p)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[rand.IntN(len(cands))]
}

// loaded stores a verified segment (v.mu held).
func (v *Viewer) loaded(s *seg, data []byte, src Source, now time.Time) {
	if s.loaded {
		return
	}
	s.data = v.sh.intern.intern(sha256.Sum256(data), data)
	s.loaded, s.src = true, src
	v.stats.addSegment(src)
	if v.stats.TTFS == 0 {
		v.stats.TTFS = max(now.Sub(v.stats.Joined), time.Nanosecond)
	}
	v.annDirty = true
	v.kick()
}

// announcement is the viewer's current SegmentsAnnouncement (v.mu held):
// the newest loaded segments and those loading over HTTP.
func (v *Viewer) announcement() superpeer.Command {
	c := superpeer.Command{Type: superpeer.CmdAnnouncement}
	for seq := v.lastSeq; len(c.Loaded)+len(c.Loading) < superpeer.MaxAnnounced; seq-- {
		s, ok := v.segs[seq]
		if !ok {
			break
		}
		if s.loaded {
			c.Loaded = append(c.Loaded, int64(seq))
		} else if s.inflight == playrules.HTTP {
			c.Loading = append(c.Loading, int64(seq))
		}
		if seq == 0 {
			break
		}
	}
	return c
}

// announceAll sends the announcement to every open peer (v.mu held).
func (v *Viewer) announceAll(out []func()) []func() {
	if len(v.peers) == 0 {
		return out
	}
	frames, err := superpeer.EncodeCommand(v.announcement())
	if err != nil {
		return out
	}
	for _, p := range v.peers {
		out = append(out, func() { p.send(frames...) })
	}
	return out
}

// evict forgets segments that played more than keepBehind ago (v.mu held).
func (v *Viewer) evict() {
	if !v.pb.started {
		return
	}
	cur, ok := v.segs[v.pb.seq]
	if !ok {
		return
	}
	for seq, s := range v.segs {
		if seq < v.pb.seq && cur.pdt.Sub(s.pdt) > keepBehind && s.inflight == playrules.Wait {
			delete(v.segs, seq)
			v.annDirty = true
		}
	}
}
