package loadgen

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/internal/playrules"
	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/proto"
)

// Data channel backpressure, as the super-peer does it.
const (
	highWater = 1 << 20
	lowWater  = 256 << 10
)

// vpeer is one of a viewer's peer connections. Fields other than the
// channels and join are guarded by Viewer.mu.
type vpeer struct {
	v       *Viewer
	remote  string // peer id, once known
	relay   bool   // remote is a relay super-peer
	offerID string // own offer awaiting an answer
	pc      *webrtc.PeerConnection
	dc      *webrtc.DataChannel
	open    bool
	closed  bool
	timer   *time.Timer

	have    map[int64]bool // remote announced loaded
	loading map[int64]bool // remote announced loading over HTTP
	down    *download      // our request to the remote
	errs    int            // downloads that timed out
	up      *upload        // remote's request being served

	kick chan struct{}
	low  chan struct{}
	done chan struct{}
	join superpeer.Joiner // data channel callback only
}

// download is a segment request to a peer.
type download struct {
	s        *seg
	req      int64
	size     int64
	started  bool
	buf      []byte
	lastByte time.Time
}

// upload is a peer's request being answered.
type upload struct {
	id, req, from int64
}

func newVPeer(v *Viewer) *vpeer {
	return &vpeer{v: v, have: map[int64]bool{}, loading: map[int64]bool{},
		kick: make(chan struct{}, 1), low: make(chan struct{}, 1), done: make(chan struct{})}
}

func isRelay(peerID string) bool { return strings.HasPrefix(peerID, superpeer.PeerIDPrefix) }

// send writes messages on the data channel (errors close the peer later
// through the channel's close callback).
func (p *vpeer) send(msgs ...[]byte) {
	p.v.mu.Lock()
	dc := p.dc
	p.v.mu.Unlock()
	if dc == nil {
		return
	}
	for _, m := range msgs {
		if dc.Send(m) != nil {
			return
		}
	}
}

// attach wires a data channel (the first one only).
func (p *vpeer) attach(dc *webrtc.DataChannel) {
	p.v.mu.Lock()
	if p.closed || p.dc != nil {
		p.v.mu.Unlock()
		_ = dc.Close()
		return
	}
	p.dc = dc
	p.v.mu.Unlock()
	dc.SetBufferedAmountLowThreshold(lowWater)
	dc.OnBufferedAmountLow(func() {
		select {
		case p.low <- struct{}{}:
		default:
		}
	})
	dc.OnMessage(p.onMessage)
	dc.OnClose(func() { p.close("data channel closed") })
	dc.OnOpen(p.onOpen)
}

// onOpen makes the connection a peer unless one to the same remote exists.
func (p *vpeer) onOpen() {
	v := p.v
	v.mu.Lock()
	if p.closed || p.open || v.closed || p.remote == "" || v.peers[p.remote] != nil {
		v.mu.Unlock()
		p.close("duplicate or closed")
		return
	}
	p.open = true
	if p.timer != nil {
		p.timer.Stop()
	}
	v.peers[p.remote] = p
	v.stats.PeersEver++
	if p.relay {
		v.stats.RelayPeers++
	}
	frames, err := superpeer.EncodeCommand(v.announcement())
	v.mu.Unlock()
	if err == nil {
		p.send(frames...)
	}
	go p.writeLoop()
	v.kick()
}

// onMessage handles one data channel message.
func (p *vpeer) onMessage(msg webrtc.DataChannelMessage) {
	if !superpeer.IsCommandMessage(msg.Data) {
		p.onBytes(msg.Data)
		return
	}
	body, err := p.join.Add(msg.Data)
	if err != nil || body == nil {
		return
	}
	cmd, err := superpeer.DecodeCommand(body)
	if err != nil {
		return
	}
	v := p.v
	switch cmd.Type {
	case superpeer.CmdAnnouncement:
		have := make(map[int64]bool, len(cmd.Loaded))
		for _, id := range cmd.Loaded {
			have[id] = true
		}
		loading := make(map[int64]bool, len(cmd.Loading))
		for _, id := range cmd.Loading {
			loading[id] = true
		}
		v.mu.Lock()
		p.have, p.loading = have, loading
		v.mu.Unlock()
		v.kick()
	case superpeer.CmdRequest:
		v.mu.Lock()
		p.up = &upload{id: cmd.ID, req: cmd.Req, from: cmd.From}
		v.mu.Unlock()
		select {
		case p.kick <- struct{}{}:
		default:
		}
	case superpeer.CmdCancel:
		v.mu.Lock()
		if p.up != nil && p.up.req == cmd.Req {
			p.up = nil
		}
		v.mu.Unlock()
	case superpeer.CmdData:
		v.mu.Lock()
		if d := p.down; d != nil && !d.started && d.s.seq == uint64(cmd.ID) && d.req == cmd.Req {
			if cmd.Size < 0 || cmd.Size > proto.MaxSegmentLength {
				v.mu.Unlock()
				p.close("bad segment size")
				return
			}
			d.started, d.size, d.lastByte = true, cmd.Size, time.Now()
			d.buf = make([]byte, 0, cmd.Size)
		}
		v.mu.Unlock()
	case superpeer.CmdCompleted:
		v.mu.Lock()
		d := p.down
		if d == nil || !d.started || d.s.seq != uint64(cmd.ID) || d.req != cmd.Req {
			v.mu.Unlock()
			return
		}
		if int64(len(d.buf)) != d.size {
			v.mu.Unlock()
			p.close("short segment")
			return
		}
		v.mu.Unlock()
		go p.finishDownload(d)
	case superpeer.CmdAbsent:
		v.mu.Lock()
		if d := p.down; d != nil && d.s.seq == uint64(cmd.ID) && d.req == cmd.Req {
			delete(p.have, cmd.ID)
			p.endDownload()
		}
		v.mu.Unlock()
		v.kick()
	}
}

// onBytes appends raw segment bytes to the download in progress.
func (p *vpeer) onBytes(b []byte) {
	v := p.v
	v.mu.Lock()
	d := p.down
	if d == nil || !d.started {
		v.mu.Unlock()
		return // bytes before SegmentData are ignored
	}
	if int64(len(d.buf)+len(b)) > d.size {
		v.mu.Unlock()
		p.close("too many bytes")
		return
	}
	d.buf = append(d.buf, b...)
	d.lastByte = time.Now()
	src := FromViewer
	if p.relay {
		src = FromRelayP2P
	}
	v.stats.addBytes(src, int64(len(b)))
	v.mu.Unlock()
}

// finishDownload checks a completed download against its record.
func (p *vpeer) finishDownload(d *download) {
	v := p.v
	err := v.book.verify(context.Background(), proto.KindMedia, d.s.seq, d.buf)
	v.mu.Lock()
	if p.down != d {
		v.mu.Unlock()
		return // canceled meanwhile
	}
	p.endDownload()
	if err != nil {
		v.stats.VerifyFailed++
		v.mu.Unlock()
		p.close("segment failed verification") // as validateP2PSegment does
		return
	}
	p.errs = 0
	src := FromViewer
	if p.relay {
		src = FromRelayP2P
	}
	v.loaded(d.s, d.buf, src, time.Now())
	v.mu.Unlock()
}

// startDownload requests s from p (v.mu held).
func (p *vpeer) startDownload(s *seg, now time.Time, out []func()) []func() {
	d := &download{s: s, req: int64(rand.IntN(1000)), lastByte: now}
	p.down = d
	s.inflight, s.peer = playrules.P2P, p
	p.v.p2pBusy++
	frames, err := superpeer.EncodeCommand(superpeer.Command{Type: superpeer.CmdRequest, ID: int64(s.seq), Req: d.req})
	if err != nil {
		return out
	}
	return append(out, func() { p.send(frames...) })
}

// endDownload forgets p's download (v.mu held).
func (p *vpeer) endDownload() {
	d := p.down
	if d == nil {
		return
	}
	p.down = nil
	p.v.p2pBusy--
	if d.s.peer == p {
		d.s.inflight, d.s.peer = playrules.Wait, nil
	}
}

// abortP2P cancels the peer download of s (v.mu held).
func (v *Viewer) abortP2P(s *seg, out []func()) []func() {
	p := s.peer
	if p == nil || p.down == nil {
		return out
	}
	req := p.down.req
	p.endDownload()
	frames, err := superpeer.EncodeCommand(superpeer.Command{Type: superpeer.CmdCancel, ID: int64(s.seq), Req: req})
	if err == nil {
		out = append(out, func() { p.send(frames...) })
	}
	return out
}

// checkTimeouts gives up peer downloads that received nothing for
// playrules.PeerTimeout; a peer that times out maxP2PErrors times is
// dropped (v.mu held).
func (v *Viewer) checkTimeouts(now time.Time, out []func()) []func() {
	for _, p := range v.peers {
		d := p.down
		if d == nil || now.Sub(d.lastByte) < playrules.PeerTimeout {
			continue
		}
		v.stats.P2PTimeouts++
		out = v.abortP2P(d.s, out)
		p.errs++
		if p.errs >= maxP2PErrors {
			out = append(out, func() { p.close("timeouts") })
		}
	}
	return out
}

// writeLoop serves the remote's requests within the viewer's upload cap.
func (p *vpeer) writeLoop() {
	for {
		select {
		case <-p.done:
			return
		case <-p.kick:
		}
		p.serve()
	}
}

// serve answers the current request: SegmentData, raw chunks paced by the
// upload bucket, SegmentDataSendingCompleted; SegmentAbsent when the
// segment is listed but not held; nothing for unknown ids.
func (p *vpeer) serve() {
	v := p.v
	v.mu.Lock()
	up := p.up
	if up == nil {
		v.mu.Unlock()
		return
	}
	s, listed := v.segs[uint64(up.id)]
	dc := p.dc
	var data []byte
	if listed && s.loaded {
		data = s.data[min(int(max(up.from, 0)), len(s.data)):]
	}
	v.mu.Unlock()
	if !listed || up.id < 0 {
		p.finishUpload(up)
		return
	}
	if data == nil {
		p.finishUpload(up)
		p.sendCmd(dc, superpeer.Command{Type: superpeer.CmdAbsent, ID: up.id, Req: up.req})
		return
	}
	p.sendCmd(dc, superpeer.Command{Type: superpeer.CmdData, ID: up.id, Req: up.req, Size: int64(len(data))})
	for off := 0; off < len(data); {
		end := min(off+superpeer.MaxMessage, len(data))
		if !p.pace(dc, end-off) || !p.current(up) {
			return
		}
		if dc.Send(data[off:end]) != nil {
			return
		}
		v.mu.Lock()
		v.stats.BytesUploaded += int64(end - off)
		v.mu.Unlock()
		off = end
	}
	if p.finishUpload(up) {
		v.mu.Lock()
		v.stats.SegsUploaded++
		v.mu.Unlock()
		p.sendCmd(dc, superpeer.Command{Type: superpeer.CmdCompleted, ID: up.id, Req: up.req})
	}
}

// current reports whether up is still the request to serve.
func (p *vpeer) current(up *upload) bool {
	p.v.mu.Lock()
	defer p.v.mu.Unlock()
	return p.up == up && !p.closed
}

// finishUpload clears up if it is still current; it reports whether it was.
func (p *vpeer) finishUpload(up *upload) bool {
	p.v.mu.Lock()
	defer p.v.mu.Unlock()
	if p.up != up {
		return false
	}
	p.up = nil
	return true
}

func (p *vpeer) sendCmd(dc *webrtc.DataChannel, c superpeer.Command) {
	frames, err := superpeer.EncodeCommand(c)
	if err != nil {
		return
	}
	for _, f := range frames {
		if dc.Send(f) != nil {
			return
		}
	}
}

// pace waits for the upload cap and the channel's buffer; false when the
// peer closed meanwhile.
func (p *vpeer) pace(dc *webrtc.DataChannel, n int) bool {
	if d := p.v.up.reserve(time.Now(), n); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-p.done:
			t.Stop()
			return false
		case <-t.C:
		}
	}
	for dc.BufferedAmount() > highWater {
		t := time.NewTimer(10 * time.Second)
		select {
		case <-p.low:
			t.Stop()
		case <-p.done:
			t.Stop()
			return false
		case <-t.C:
			go p.close("peer stopped draining")
			return false
		}
	}
	return true
}

// close ends the connection (idempotent).
func (p *vpeer) close(reason string) {
	v := p.v
	v.mu.Lock()
	if p.closed {
		v.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	if p.timer != nil {
		p.timer.Stop()
	}
	p.endDownload()
	p.up = nil
	if p.remote != "" && v.peers[p.remote] == p {
		delete(v.peers, p.remote)
	}
	if p.offerID != "" && v.pending[p.offerID] == p {
		delete(v.pending, p.offerID)
	}
	delete(v.conns, p)
	pc := p.pc
	v.mu.Unlock()
	_ = reason
	if pc != nil {
		go func() { _ = pc.Close() }()
	}
	v.kick()
}

// closeAfter closes p unless it opened within d.
func (p *vpeer) closeAfter(d time.Duration, reason string) {
	t := time.AfterFunc(d, func() {
		p.v.mu.Lock()
		open := p.open
		p.v.mu.Unlock()
		if !open {
			p.close(reason)
		}
	})
	p.v.mu.Lock()
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = t
	p.v.mu.Unlock()
}
