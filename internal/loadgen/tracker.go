package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/node/superpeer"
)

// Tracker client timings (bittorrent-tracker / p2p-media-loader).
const (
	defaultAnnounce = 30 * time.Second // before the tracker says
	minAnnounce     = 5 * time.Second
	maxAnnounce     = 10 * time.Minute
	gatherTimeout   = 5 * time.Second
)

// trackerLoop keeps a tracker session up while the viewer plays,
// reconnecting with a growing delay.
func (v *Viewer) trackerLoop(ctx context.Context) {
	backoff := time.Second
	for i := 0; ctx.Err() == nil; i++ {
		start := time.Now()
		_ = v.trackerSession(ctx, v.trackers[i%len(v.trackers)])
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// trackerSession runs one WebSocket connection: announce now and on the
// tracker's interval, answer relayed offers, complete own offers.
func (v *Viewer) trackerSession(ctx context.Context, u string) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: v.sh.http})
	cancel()
	if err != nil {
		return err
	}
	defer conn.CloseNow() //nolint:errcheck // best effort
	conn.SetReadLimit(1 << 20)
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	out := make(chan []byte, 64)
	send := func(m []byte) bool {
		if m == nil {
			return false
		}
		select {
		case out <- m:
			return true
		default:
			return false
		}
	}
	v.mu.Lock()
	v.sendTrk = send
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.sendTrk = nil
		v.mu.Unlock()
	}()
	interval := make(chan time.Duration, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		defer scancel()
		for {
			select {
			case <-sctx.Done():
				return
			case m := <-out:
				wctx, c := context.WithTimeout(sctx, 10*time.Second)
				err := conn.Write(wctx, websocket.MessageText, m)
				c()
				if err != nil {
					return
				}
			}
		}
	})
	wg.Go(func() { v.announceLoop(sctx, send, interval) })
	for {
		_, data, err := conn.Read(sctx)
		if err != nil {
			return err
		}
		v.handleTracker(sctx, data, interval)
	}
}

// announceLoop announces at once ("started") and then on the interval the
// tracker gives, with fresh offers while there is room for peers.
func (v *Viewer) announceLoop(ctx context.Context, send func([]byte) bool, interval <-chan time.Duration) {
	every := defaultAnnounce
	event := "started"
	for {
		offers := v.makeOffers(ctx)
		send(superpeer.EncodeJSON(superpeer.AnnounceMessage{
			Action: "announce", InfoHash: v.infoHash, PeerID: v.peerID, Event: event,
			NumWant: len(offers), Offers: offers, Left: 1,
		}))
		event = ""
		t := time.NewTimer(every)
	wait:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case d := <-interval:
				if d != every {
					every = d
					t.Reset(every)
				}
			case <-t.C:
				break wait
			}
		}
	}
}

// makeOffers creates up to Offers fresh offers, fewer when MaxPeers is
// near.
func (v *Viewer) makeOffers(ctx context.Context) []superpeer.OfferEntry {
	v.mu.Lock()
	n := min(v.p.Offers, v.p.MaxPeers-len(v.conns))
	v.mu.Unlock()
	var offers []superpeer.OfferEntry
	for range max(n, 0) {
		o, err := v.makeOffer(ctx)
		if err != nil {
			break
		}
		offers = append(offers, o)
	}
	return offers
}

func (v *Viewer) makeOffer(ctx context.Context) (superpeer.OfferEntry, error) {
	p, pc, err := v.newConn()
	if err != nil {
		return superpeer.OfferEntry{}, err
	}
	var label [20]byte
	_, _ = rand.Read(label[:])
	dc, err := pc.CreateDataChannel(hex.EncodeToString(label[:]), nil)
	if err != nil {
		p.close("data channel")
		return superpeer.OfferEntry{}, err
	}
	p.attach(dc)
	local, err := describe(ctx, pc, pc.CreateOffer)
	if err != nil {
		p.close("offer")
		return superpeer.OfferEntry{}, err
	}
	id, err := superpeer.RandomString(20)
	if err != nil {
		p.close("offer id")
		return superpeer.OfferEntry{}, err
	}
	v.mu.Lock()
	if p.closed {
		v.mu.Unlock()
		return superpeer.OfferEntry{}, fmt.Errorf("%w: connection closed", ErrInvalidParams)
	}
	p.offerID = id
	v.pending[id] = p
	v.mu.Unlock()
	p.closeAfter(offerTimeout, "offer expired")
	return superpeer.OfferEntry{Offer: local, OfferID: id}, nil
}

// newConn creates a registered connection, or fails at MaxPeers.
func (v *Viewer) newConn() (*vpeer, *webrtc.PeerConnection, error) {
	v.mu.Lock()
	if v.closed || len(v.conns) >= v.p.MaxPeers {
		v.mu.Unlock()
		return nil, nil, fmt.Errorf("%w: no room for a peer", ErrInvalidParams)
	}
	p := newVPeer(v)
	v.conns[p] = true
	v.mu.Unlock()
	pc, err := v.sh.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		p.close("peer connection")
		return nil, nil, err
	}
	v.mu.Lock()
	p.pc = pc
	closed := p.closed
	v.mu.Unlock()
	if closed {
		go func() { _ = pc.Close() }()
		return nil, nil, fmt.Errorf("%w: viewer closed", ErrInvalidParams)
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			p.close("connection " + st.String())
		}
	})
	return p, pc, nil
}

// describe sets a local description and waits for ICE gathering, giving
// the complete (non-trickle) description simple-peer would send.
func describe(ctx context.Context, pc *webrtc.PeerConnection,
	create func(*webrtc.OfferOptions) (webrtc.SessionDescription, error)) (webrtc.SessionDescription, error) {
	d, err := create(nil)
	if err != nil {
		return d, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		return d, err
	}
	t := time.NewTimer(gatherTimeout)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
	case <-ctx.Done():
		return d, ctx.Err()
	}
	local := pc.LocalDescription()
	if local == nil {
		return d, fmt.Errorf("%w: no local description", ErrInvalidParams)
	}
	return superpeer.NonTrickleSDP(*local), nil
}

// handleTracker handles one tracker message.
func (v *Viewer) handleTracker(ctx context.Context, data []byte, interval chan<- time.Duration) {
	var m superpeer.TrackerMessage
	if json.Unmarshal(data, &m) != nil || m.Action != "announce" || m.InfoHash != v.infoHash {
		return
	}
	if iv := max(m.Interval, m.MinInterval); iv > 0 {
		d := min(max(time.Duration(iv*float64(time.Second)), minAnnounce), maxAnnounce)
		select {
		case interval <- d:
		default:
		}
	}
	if m.PeerID == "" || m.PeerID == v.peerID || m.OfferID == "" {
		return
	}
	// A viewer behind a NAT never gets through to another viewer.
	if v.p.NAT && !isRelay(m.PeerID) {
		if m.Answer != nil {
			v.mu.Lock()
			p := v.pending[m.OfferID]
			v.mu.Unlock()
			if p != nil {
				p.close("unreachable viewer")
			}
		}
		return
	}
	switch {
	case m.Offer != nil && m.Offer.Type == webrtc.SDPTypeOffer:
		go v.answer(ctx, m.PeerID, m.OfferID, *m.Offer)
	case m.Answer != nil && m.Answer.Type == webrtc.SDPTypeAnswer:
		v.mu.Lock()
		p := v.pending[m.OfferID]
		dup := v.hasRemote(m.PeerID)
		if p != nil {
			delete(v.pending, m.OfferID)
			p.offerID = ""
			if !dup {
				p.remote, p.relay = m.PeerID, isRelay(m.PeerID)
			}
		}
		v.mu.Unlock()
		if p == nil {
			return
		}
		if dup {
			p.close("already connected")
			return
		}
		p.closeAfter(connectTimeout, "connect timeout")
		if p.pc.SetRemoteDescription(*m.Answer) != nil {
			p.close("bad answer")
		}
	}
}

// hasRemote reports whether a connection to remote exists (v.mu held).
func (v *Viewer) hasRemote(remote string) bool {
	for c := range v.conns {
		if c.remote == remote {
			return true
		}
	}
	return false
}

// answer answers a relayed offer if there is room and no connection to
// that peer yet.
func (v *Viewer) answer(ctx context.Context, from, offerID string, offer webrtc.SessionDescription) {
	v.mu.Lock()
	dup := v.hasRemote(from)
	v.mu.Unlock()
	if dup {
		return
	}
	p, pc, err := v.newConn()
	if err != nil {
		return
	}
	v.mu.Lock()
	p.remote, p.relay = from, isRelay(from)
	v.mu.Unlock()
	pc.OnDataChannel(p.attach)
	p.closeAfter(connectTimeout, "connect timeout")
	if pc.SetRemoteDescription(offer) != nil {
		p.close("bad offer")
		return
	}
	ans, err := describe(ctx, pc, func(*webrtc.OfferOptions) (webrtc.SessionDescription, error) {
		return pc.CreateAnswer(nil)
	})
	if err != nil {
		p.close("answer")
		return
	}
	v.mu.Lock()
	send := v.sendTrk
	v.mu.Unlock()
	if send == nil || !send(superpeer.EncodeJSON(superpeer.AnswerMessage{
		Action: "announce", InfoHash: v.infoHash, PeerID: v.peerID, ToPeerID: from,
		Answer: ans, OfferID: offerID,
	})) {
		p.close("tracker unavailable")
	}
}
