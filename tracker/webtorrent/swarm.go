package webtorrent

import (
	"net/netip"
	"time"
)

// member is one peer in one swarm. All fields are owned by the registry
// and read or written only under registry.mu.
type member struct {
	id       binID
	c        *conn
	relay    bool
	network  netip.Prefix
	complete bool
	lastSeen time.Time

	idxGroup int // index in swarm.relays or swarm.viewers
	idxNet   int // index in swarm.byNet[network] (viewers only)
}

// swarm is the set of peers sharing one info_hash. Besides the map, it
// keeps its members in slices (relays, viewers, viewers per network) so
// that picking k random peers of a group costs O(k), not O(swarm).
type swarm struct {
	hash       binID
	peers      map[binID]*member
	relays     []*member
	viewers    []*member
	byNet      map[netip.Prefix][]*member
	complete   int
	downloaded uint64
}

func newSwarm(hash binID) *swarm {
	return &swarm{hash: hash, peers: make(map[binID]*member), byNet: make(map[netip.Prefix][]*member)}
}

func (sw *swarm) size() int { return len(sw.peers) }

func (sw *swarm) incomplete() int { return len(sw.peers) - sw.complete }

func (sw *swarm) add(m *member) {
	sw.peers[m.id] = m
	if m.complete {
		sw.complete++
	}
	if m.relay {
		m.idxGroup = len(sw.relays)
		sw.relays = append(sw.relays, m)
		return
	}
	m.idxGroup = len(sw.viewers)
	sw.viewers = append(sw.viewers, m)
	if m.network.IsValid() {
		list := sw.byNet[m.network]
		m.idxNet = len(list)
		sw.byNet[m.network] = append(list, m)
	}
}

func (sw *swarm) remove(m *member) {
	if sw.peers[m.id] != m {
		return
	}
	delete(sw.peers, m.id)
	if m.complete {
		sw.complete--
	}
	if m.relay {
		sw.relays = removeAt(sw.relays, m.idxGroup, setIdxGroup)
		return
	}
	sw.viewers = removeAt(sw.viewers, m.idxGroup, setIdxGroup)
	if m.network.IsValid() {
		list := removeAt(sw.byNet[m.network], m.idxNet, setIdxNet)
		if len(list) == 0 {
			delete(sw.byNet, m.network)
		} else {
			sw.byNet[m.network] = list
		}
	}
}

// markComplete flags m as a seeder; it reports whether m just became one.
func (sw *swarm) markComplete(m *member) bool {
	if m.complete {
		return false
	}
	m.complete = true
	sw.complete++
	return true
}

func setIdxGroup(m *member, i int) { m.idxGroup = i }
func setIdxNet(m *member, i int)   { m.idxNet = i }

// removeAt swap-removes list[i], fixing the moved member's index.
func removeAt(list []*member, i int, setIdx func(*member, int)) []*member {
	last := len(list) - 1
	if i < 0 || i > last {
		return list
	}
	list[i] = list[last]
	setIdx(list[i], i)
	list[last] = nil
	return list[:last]
}
