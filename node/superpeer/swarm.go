package superpeer

import (
	"sync"
	"sync/atomic"
	"time"
)

// swarm is the super-peer's membership in one rendition's browser swarm.
// Its maps and schedule are guarded by SuperPeer.mu.
type swarm struct {
	stream, broadcast, rendition string
	id                           string // p2p-media-loader stream swarm id
	infoHash                     string

	conns     map[string]*peerConn // registered connections by remote peer id
	pending   map[string]*peerConn // own offers awaiting an answer, by offer id
	interval  time.Duration        // re-announce interval
	next      time.Time            // next announce (zero: now)
	announced bool                 // "started" sent in the current session
	removed   bool

	version atomic.Uint64 // bumped when the held segments change
	annMu   sync.Mutex
	annVer  uint64
	ann     [][]byte // framed announcement for annVer
}

func newSwarm(stream, broadcast, rendition, id string, interval time.Duration) *swarm {
	return &swarm{
		stream: stream, broadcast: broadcast, rendition: rendition,
		id: id, infoHash: InfoHash(id),
		conns: map[string]*peerConn{}, pending: map[string]*peerConn{},
		interval: interval,
	}
}

// invalidate marks the cached announcement stale.
func (sw *swarm) invalidate() { sw.version.Add(1) }

// announcement returns the framed SegmentsAnnouncement of the segments
// src holds now: the newest maxArrayLen sequence numbers as loaded.
func (sw *swarm) announcement(src Source) ([][]byte, error) {
	sw.annMu.Lock()
	defer sw.annMu.Unlock()
	ver := sw.version.Load()
	if sw.ann != nil && sw.annVer == ver {
		return sw.ann, nil
	}
	have := src.Have(sw.stream, sw.rendition)
	ids := make([]int64, 0, min(len(have), maxArrayLen))
	for i := len(have) - 1; i >= 0 && len(ids) < maxArrayLen; i-- {
		if have[i] <= 1<<53-1 { // larger ids do not survive a JS number
			ids = append(ids, int64(have[i]))
		}
	}
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	body, err := encodeCommand(command{typ: cmdAnnouncement, loaded: ids})
	if err != nil {
		return nil, err
	}
	sw.ann, sw.annVer = frameCommand(body, maxMessage), ver
	return sw.ann, nil
}

// allConns returns registered and pending connections (SuperPeer.mu held).
func (sw *swarm) allConns() []*peerConn {
	out := make([]*peerConn, 0, len(sw.conns)+len(sw.pending))
	for _, c := range sw.conns {
		out = append(out, c)
	}
	for _, c := range sw.pending {
		out = append(out, c)
	}
	return out
}

// openConns returns the registered connections (SuperPeer.mu held).
func (sw *swarm) openConns() []*peerConn {
	out := make([]*peerConn, 0, len(sw.conns))
	for _, c := range sw.conns {
		out = append(out, c)
	}
	return out
}

// reconcile joins the swarms of the Source's current renditions and
// leaves the others.
func (s *SuperPeer) reconcile() {
	type spec struct{ stream, broadcast, rendition, id string }
	want := map[string]spec{}
	for _, info := range s.p.Source.Streams() {
		for _, r := range info.Renditions {
			id, err := StreamSwarmID(info.Stream, info.Broadcast, r)
			if err != nil {
				s.log.Warn("rendition skipped", "stream", info.Stream, "rendition", r.Name, "err", err)
				continue
			}
			h := InfoHash(id)
			if prev, dup := want[h]; dup {
				s.log.Warn("renditions share a swarm; serving the first", "stream", info.Stream,
					"rendition", r.Name, "first", prev.rendition)
				continue
			}
			want[h] = spec{info.Stream, info.Broadcast, r.Name, id}
		}
	}
	var stale []*peerConn
	var stops [][]byte
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	for h, sw := range s.swarms {
		if sp, ok := want[h]; ok && sp.stream == sw.stream && sp.rendition == sw.rendition {
			continue
		}
		sw.removed = true
		delete(s.swarms, h)
		stale = append(stale, sw.allConns()...)
		if sw.announced {
			stops = append(stops, stoppedMessage(sw.infoHash, s.peerID))
		}
	}
	for h, sp := range want {
		if _, ok := s.swarms[h]; !ok {
			s.swarms[h] = newSwarm(sp.stream, sp.broadcast, sp.rendition, sp.id, s.cfg.defaultInterval)
			s.log.Info("joining swarm", "stream", sp.stream, "rendition", sp.rendition, "info_hash", h)
		}
	}
	sess := s.sess
	s.mu.Unlock()
	for _, c := range stale {
		c.close("swarm left")
	}
	if sess != nil {
		for _, m := range stops {
			sess.send(s, m)
		}
		sess.wakeUp()
	}
}

// swarmByHash returns the joined swarm with info hash h.
func (s *SuperPeer) swarmByHash(h string) *swarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.swarms[h]
}

// reserve registers c as the connection to remote in sw if MaxPeers and
// the one-connection-per-peer rule allow it.
func (s *SuperPeer) reserve(sw *swarm, remote string, c *peerConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reserveLocked(sw, remote, c)
}

// reserveLocked is reserve with SuperPeer.mu held. A pending offer that is
// registered leaves the pending set.
func (s *SuperPeer) reserveLocked(sw *swarm, remote string, c *peerConn) bool {
	if s.closed || sw.removed || c.registered {
		return false
	}
	if _, dup := sw.conns[remote]; dup {
		return false
	}
	if s.active >= s.p.MaxPeers {
		s.stats.offersRefused.Add(1)
		return false
	}
	if c.offerID != "" && sw.pending[c.offerID] == c {
		delete(sw.pending, c.offerID)
	}
	c.offerID = ""
	c.remote = remote
	c.registered = true
	sw.conns[remote] = c
	s.active++
	return true
}

// unregister forgets c (idempotent).
func (s *SuperPeer) unregister(c *peerConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw := c.sw
	if c.registered {
		c.registered = false
		if sw.conns[c.remote] == c {
			delete(sw.conns, c.remote)
		}
		s.active--
	}
	if c.offerID != "" && sw.pending[c.offerID] == c {
		delete(sw.pending, c.offerID)
	}
	if c.counted {
		c.counted = false
		s.open--
	}
}

// offerBudget is how many new offers sw's next announce carries: no more
// than MaxPeers has room for, and no more than offersPerAnnounce pending
// at once (unanswered offers hold sockets until they expire).
func (s *SuperPeer) offerBudget(sw *swarm) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(min(s.p.MaxPeers-s.active, s.cfg.offersPerAnnounce-len(sw.pending)), 0)
}
