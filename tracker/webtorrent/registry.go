package webtorrent

import (
	"sync"
	"time"
)

// registry owns every swarm and membership; mu guards all of it,
// including each conn's members map. Nothing under mu blocks on I/O:
// callers encode and queue messages after the call returns.
type registry struct {
	mu     sync.Mutex
	p      *Params
	m      *metrics
	swarms map[binID]*swarm
	relays int // memberships held by relay nodes
	others int // memberships held by browsers
}

// target is one offer to forward to one peer.
type target struct {
	c *conn
	o offer
}

// announceResult is what an announce produced.
type announceResult struct {
	complete, incomplete int
	targets              []target
}

func newRegistry(p *Params, m *metrics) *registry {
	return &registry{p: p, m: m, swarms: make(map[binID]*swarm)}
}

// announce applies an announce (not an answer) from c.
func (g *registry) announce(c *conn, req *request, now time.Time) (announceResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sw := g.swarms[req.infoHash]
	if req.event == eventStopped {
		if sw == nil {
			return announceResult{}, nil
		}
		if m := sw.peers[req.peerID]; m != nil && m.c == c {
			g.removeMember(sw, m)
		}
		return announceResult{complete: sw.complete, incomplete: sw.incomplete()}, nil
	}
	if sw == nil {
		if len(g.swarms) >= g.p.MaxSwarms {
			return announceResult{}, ErrTooManySwarms
		}
		sw = newSwarm(req.infoHash)
		g.swarms[req.infoHash] = sw
		g.m.swarms.Set(float64(len(g.swarms)))
	}
	m, err := g.join(sw, c, req.peerID)
	if err != nil {
		g.dropIfEmpty(sw)
		return announceResult{}, err
	}
	m.lastSeen = now
	if (req.event == eventCompleted || req.complete) && sw.markComplete(m) && req.event == eventCompleted {
		sw.downloaded++
	}
	res := announceResult{complete: sw.complete, incomplete: sw.incomplete()}
	k := min(req.numWant, len(req.offers))
	for i, to := range sw.pick(m, k) {
		res.targets = append(res.targets, target{c: to.c, o: req.offers[i]})
	}
	return res, nil
}

// join returns c's member for id in sw, adding it (or taking it over from
// an older socket that announced the same peer_id) as needed.
func (g *registry) join(sw *swarm, c *conn, id binID) (*member, error) {
	m := sw.peers[id]
	if m != nil && m.c == c {
		return m, nil
	}
	mine := c.members[sw.hash] // c's previous peer_id in this swarm, if any
	if !c.relay {
		if mine == nil && len(c.members) >= g.p.MaxSwarmsPerConn {
			return nil, ErrConnSwarmLimit
		}
		if m == nil && mine == nil && sw.size() >= g.p.MaxPeersPerSwarm {
			return nil, ErrSwarmFull
		}
	}
	if mine != nil {
		g.unlink(sw, mine)
	}
	if m != nil {
		g.unlink(sw, m)
	}
	nm := &member{id: id, c: c, relay: c.relay, network: c.network}
	if m != nil {
		nm.complete = m.complete
	}
	sw.add(nm)
	c.members[sw.hash] = nm
	g.countMember(nm, 1)
	return nm, nil
}

// answer finds where c's answer goes, refreshing the sender.
func (g *registry) answer(c *conn, req *request, now time.Time) (*conn, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sw := g.swarms[req.infoHash]
	if sw == nil {
		return nil, ErrNotInSwarm
	}
	from := sw.peers[req.peerID]
	if from == nil || from.c != c {
		return nil, ErrNotInSwarm
	}
	from.lastSeen = now
	to := sw.peers[req.toPeerID]
	if to == nil {
		return nil, ErrUnknownPeer
	}
	return to.c, nil
}

// scrape returns the counts of each hash, keyed by its binary string.
func (g *registry) scrape(hashes []binID) map[string]fileStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	files := make(map[string]fileStats, len(hashes))
	for _, h := range hashes {
		var fs fileStats
		if sw := g.swarms[h]; sw != nil {
			fs = fileStats{Complete: sw.complete, Incomplete: sw.incomplete(), Downloaded: sw.downloaded}
		}
		files[h.String()] = fs
	}
	return files
}

// dropConn removes every membership of c (its socket closed).
func (g *registry) dropConn(c *conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for hash, m := range c.members {
		if sw := g.swarms[hash]; sw != nil {
			g.removeMember(sw, m)
		}
	}
}

// sweep drops members silent since before now-PeerTimeout; it returns how
// many it dropped.
func (g *registry) sweep(now time.Time) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	cutoff := now.Add(-g.p.PeerTimeout)
	n := 0
	for _, sw := range g.swarms {
		for _, m := range sw.peers {
			if m.lastSeen.Before(cutoff) {
				g.removeMember(sw, m)
				n++
			}
		}
	}
	return n
}

// removeMember takes m out of sw, and sw out of the registry if empty.
func (g *registry) removeMember(sw *swarm, m *member) {
	g.unlink(sw, m)
	g.dropIfEmpty(sw)
}

// unlink takes m out of sw and out of its connection's memberships.
func (g *registry) unlink(sw *swarm, m *member) {
	if sw.peers[m.id] != m {
		return
	}
	sw.remove(m)
	if m.c.members[sw.hash] == m {
		delete(m.c.members, sw.hash)
	}
	g.countMember(m, -1)
}

func (g *registry) dropIfEmpty(sw *swarm) {
	if sw.size() == 0 && g.swarms[sw.hash] == sw {
		delete(g.swarms, sw.hash)
		g.m.swarms.Set(float64(len(g.swarms)))
	}
}

func (g *registry) countMember(m *member, d int) {
	if m.relay {
		g.relays += d
		g.m.peers.WithLabelValues("relay").Add(float64(d))
	} else {
		g.others += d
		g.m.peers.WithLabelValues("browser").Add(float64(d))
	}
}
