package superpeer

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// session is one WebSocket connection to a tracker.
type session struct {
	url  string
	out  chan []byte   // messages to write, bounded
	wake chan struct{} // reschedule announces
	done chan struct{} // closed when the session ends
}

// send queues msg unless the session ended or its queue is full (the
// message is then dropped and counted).
func (se *session) send(s *SuperPeer, msg []byte) bool {
	if msg == nil {
		return false
	}
	select {
	case <-se.done:
		return false
	default:
	}
	select {
	case se.out <- msg:
		return true
	default:
		s.stats.dropped.Add(1)
		return false
	}
}

func (se *session) wakeUp() {
	select {
	case se.wake <- struct{}{}:
	default:
	}
}

// trackerLoop keeps one tracker session up, reconnecting with jittered
// exponential backoff and moving to the next tracker URL after a failure.
func (s *SuperPeer) trackerLoop() {
	idx := 0
	backoff := s.cfg.minBackoff
	for {
		url := s.p.Trackers[idx]
		start := time.Now()
		connected, err := s.runSession(url)
		if s.ctx.Err() != nil {
			return
		}
		if connected && time.Since(start) >= s.cfg.healthyAfter {
			backoff = s.cfg.minBackoff
		} else {
			idx = (idx + 1) % len(s.p.Trackers)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		s.log.Warn("tracker connection ended", "url", url, "connected", connected, "err", err,
			"next", s.p.Trackers[idx], "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !connected || time.Since(start) < s.cfg.healthyAfter {
			backoff = min(2*backoff, s.cfg.maxBackoff)
		}
	}
}

// runSession dials url and serves the connection until it fails or the
// super-peer stops. connected reports whether the dial succeeded.
func (s *SuperPeer) runSession(url string) (connected bool, err error) {
	var hdr http.Header
	if s.p.Header != nil {
		hdr = s.p.Header(url)
	}
	dctx, cancel := context.WithTimeout(s.ctx, s.cfg.dialTimeout)
	conn, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{
		HTTPClient: s.httpc, HTTPHeader: hdr,
	})
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.CloseNow() //nolint:errcheck // best effort after the session
	s.stats.trackerConnects.Add(1)
	s.log.Info("tracker connected", "url", url)
	conn.SetReadLimit(1 << 20)

	sctx, scancel := context.WithCancel(s.ctx)
	defer scancel()
	sess := &session{
		url:  url,
		out:  make(chan []byte, s.cfg.trackerQueue),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	s.mu.Lock()
	s.sess = sess
	for _, sw := range s.swarms {
		sw.announced, sw.next = false, time.Time{}
	}
	s.mu.Unlock()

	var wg sync.WaitGroup
	wg.Go(func() {
		defer scancel()
		for {
			select {
			case <-sctx.Done():
				return
			case m := <-sess.out:
				wctx, c := context.WithTimeout(sctx, s.cfg.dialTimeout)
				werr := conn.Write(wctx, websocket.MessageText, m)
				c()
				if werr != nil {
					return
				}
			}
		}
	})
	wg.Go(func() { s.scheduleAnnounces(sctx, sess) })
	for {
		_, data, rerr := conn.Read(sctx)
		if rerr != nil {
			err = rerr
			break
		}
		s.handleTrackerMessage(sess, data)
	}
	s.mu.Lock()
	if s.sess == sess {
		s.sess = nil
	}
	s.mu.Unlock()
	close(sess.done)
	scancel()
	wg.Wait()
	return true, err
}

// scheduleAnnounces announces each swarm when it is due.
func (s *SuperPeer) scheduleAnnounces(ctx context.Context, sess *session) {
	for {
		now := time.Now()
		next := now.Add(time.Minute)
		var due []*swarm
		s.mu.Lock()
		for _, sw := range s.swarms {
			if !sw.next.After(now) {
				due = append(due, sw)
				sw.next = now.Add(sw.interval)
			}
			if sw.next.Before(next) {
				next = sw.next
			}
		}
		s.mu.Unlock()
		for _, sw := range due {
			s.goTracked(func() { s.announce(ctx, sess, sw) })
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-sess.wake:
			t.Stop()
		}
	}
}

// announce sends one announce for sw with as many fresh offers as
// offerBudget allows.
func (s *SuperPeer) announce(ctx context.Context, sess *session, sw *swarm) {
	n := s.offerBudget(sw)
	offers := make([]offerEntry, 0, n)
	for range n {
		o, err := s.makeOffer(ctx, sw)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("offer failed", "stream", sw.stream, "rendition", sw.rendition, "err", err)
			}
			break
		}
		offers = append(offers, o)
	}
	s.mu.Lock()
	if sw.removed || s.sess != sess {
		s.mu.Unlock()
		return // the offers stay pending until they expire
	}
	event := ""
	if !sw.announced {
		event, sw.announced = "started", true
	}
	s.mu.Unlock()
	sess.send(s, encodeJSON(announceMessage{
		Action: "announce", InfoHash: sw.infoHash, PeerID: s.peerID, Event: event,
		NumWant: len(offers), Offers: offers,
	}))
}

// handleTrackerMessage dispatches one message from the tracker.
func (s *SuperPeer) handleTrackerMessage(sess *session, data []byte) {
	var m trackerMessage
	if err := json.Unmarshal(data, &m); err != nil {
		s.stats.malformed.Add(1)
		s.log.Debug("malformed tracker message", "err", err)
		return
	}
	sw := s.swarmByHash(m.InfoHash)
	if m.FailureReason != "" {
		// Refusals may name no swarm (a message the tracker could not parse).
		attrs := []any{"url", sess.url, "reason", m.FailureReason}
		if sw != nil {
			attrs = append(attrs, "stream", sw.stream, "rendition", sw.rendition)
		}
		s.log.Warn("tracker refused a message", attrs...)
		return
	}
	if m.Action != "announce" || sw == nil {
		return
	}
	if m.Warning != "" {
		s.log.Warn("tracker warning", "stream", sw.stream, "rendition", sw.rendition, "warning", m.Warning)
	}
	if iv := max(m.Interval, m.MinInterval); iv > 0 {
		d := min(max(time.Duration(iv*float64(time.Second)), s.cfg.minInterval), s.cfg.maxInterval)
		s.mu.Lock()
		if sw.interval != d {
			sw.interval = d
			sw.next = time.Now().Add(d)
		}
		s.mu.Unlock()
		sess.wakeUp()
	}
	if m.PeerID == "" || m.PeerID == s.peerID {
		return
	}
	switch {
	case m.Offer != nil && m.OfferID != "":
		s.handleOffer(sw, m.PeerID, m.OfferID, *m.Offer)
	case m.Answer != nil && m.OfferID != "":
		s.handleAnswer(sw, m.PeerID, m.OfferID, *m.Answer)
	}
}

// currentSession returns the live tracker session, if any.
func (s *SuperPeer) currentSession() *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sess
}
