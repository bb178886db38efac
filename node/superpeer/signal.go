package superpeer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
)

// makeOffer creates a connection in the initiator role (one data channel,
// ordered and reliable, random label, as simple-peer does), gathers its
// candidates and registers it as pending under a fresh offer id.
func (s *SuperPeer) makeOffer(ctx context.Context, sw *swarm) (offerEntry, error) {
	pc, err := s.newPC()
	if err != nil {
		return offerEntry{}, err
	}
	c := newPeerConn(s, sw)
	if !c.setPC(pc) {
		return offerEntry{}, ErrClosed
	}
	var label [20]byte
	if _, err := rand.Read(label[:]); err != nil {
		c.close("no randomness")
		return offerEntry{}, fmt.Errorf("superpeer: random: %w", err)
	}
	dc, err := pc.CreateDataChannel(hex.EncodeToString(label[:]), nil)
	if err != nil {
		c.close("data channel")
		return offerEntry{}, fmt.Errorf("superpeer: data channel: %w", err)
	}
	c.setupDC(dc)
	local, err := s.describe(ctx, pc, pc.CreateOffer)
	if err != nil {
		c.close("offer")
		return offerEntry{}, err
	}
	offerID, err := randomString(rand.Reader, 20)
	if err != nil {
		c.close("no randomness")
		return offerEntry{}, err
	}
	s.mu.Lock()
	ok := !s.closed && !sw.removed
	if ok {
		sw.pending[offerID] = c
		c.offerID = offerID
	}
	s.mu.Unlock()
	if !ok {
		c.close("swarm left")
		return offerEntry{}, ErrClosed
	}
	c.setTimer(s.cfg.offerTimeout, func() { c.closeUnless(stateRegistered, "offer expired") })
	return offerEntry{Offer: local, OfferID: offerID}, nil
}

// describe sets the local description made by create and waits for ICE
// gathering to finish, returning the complete (non-trickle) description.
func (s *SuperPeer) describe(ctx context.Context, pc *webrtc.PeerConnection,
	create func(*webrtc.OfferOptions) (webrtc.SessionDescription, error),
) (webrtc.SessionDescription, error) {
	d, err := create(nil)
	if err != nil {
		return d, fmt.Errorf("superpeer: create description: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		return d, fmt.Errorf("superpeer: set local description: %w", err)
	}
	t := time.NewTimer(s.cfg.gatherTimeout)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C: // send what was gathered, like simple-peer's ICE timeout
	case <-ctx.Done():
		return d, ctx.Err()
	}
	local := pc.LocalDescription()
	if local == nil {
		return d, fmt.Errorf("superpeer: no local description")
	}
	return nonTrickleSDP(*local), nil
}

// handleOffer answers a browser's relayed offer if MaxPeers and the
// one-connection-per-browser rule allow; otherwise the offer is ignored.
func (s *SuperPeer) handleOffer(sw *swarm, from, offerID string, offer webrtc.SessionDescription) {
	if offer.Type != webrtc.SDPTypeOffer {
		s.stats.malformed.Add(1)
		return
	}
	c := newPeerConn(s, sw)
	if !s.reserve(sw, from, c) {
		return
	}
	if !s.goTracked(func() { s.answerOffer(c, offerID, offer) }) {
		c.close("shutdown")
	}
}

func (s *SuperPeer) answerOffer(c *peerConn, offerID string, offer webrtc.SessionDescription) {
	pc, err := s.newPC()
	if err != nil {
		c.close("peer connection")
		return
	}
	if !c.setPC(pc) {
		return
	}
	pc.OnDataChannel(c.setupDC)
	c.setTimer(s.cfg.connectTimeout, func() { c.closeUnless(stateOpen, "connect timeout") })
	if err := pc.SetRemoteDescription(offer); err != nil {
		s.stats.malformed.Add(1)
		c.close("bad offer")
		return
	}
	answer, err := s.describe(s.ctx, pc, func(*webrtc.OfferOptions) (webrtc.SessionDescription, error) {
		return pc.CreateAnswer(nil)
	})
	if err != nil {
		c.close("answer")
		return
	}
	sess := s.currentSession()
	msg := encodeJSON(answerMessage{
		Action: "announce", InfoHash: c.sw.infoHash, PeerID: s.peerID,
		ToPeerID: c.remoteID(), Answer: answer, OfferID: offerID,
	})
	if sess == nil || !sess.send(s, msg) {
		c.close("tracker unavailable")
	}
}

// handleAnswer completes one of the super-peer's own offers.
func (s *SuperPeer) handleAnswer(sw *swarm, from, offerID string, answer webrtc.SessionDescription) {
	if answer.Type != webrtc.SDPTypeAnswer {
		s.stats.malformed.Add(1)
		return
	}
	s.mu.Lock()
	c := sw.pending[offerID]
	ok := c != nil && s.reserveLocked(sw, from, c)
	s.mu.Unlock()
	if c == nil {
		return // expired, or answered already
	}
	if !ok {
		c.close("refused")
		return
	}
	c.setTimer(s.cfg.connectTimeout, func() { c.closeUnless(stateOpen, "connect timeout") })
	pc := c.peerConnection()
	if pc == nil {
		return
	}
	if err := pc.SetRemoteDescription(answer); err != nil {
		s.stats.malformed.Add(1)
		c.close("bad answer")
	}
}
