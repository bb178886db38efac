package node

import (
	"errors"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// store returns the node's database (nil without DataDir or before Start).
func (n *Node) store() *store {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.db
}

// restoreLocked runs at Start, with n.mu held, before the stream's link
// and any tracker session start: a stream assigned before Start has its
// assignment saved; any other gets its stored assignment back, so a node
// restarted while no tracker answers rejoins its tree. The tracker's
// Assignments replace it as usual.
func (n *Node) restoreLocked(s *stream) {
	if n.db == nil {
		return
	}
	if a := s.assignment(); a.parent.ID != "" || a.backup.ID != "" {
		if err := n.db.saveAssignment(s.name, a); err != nil {
			s.log.Warn("saving assignment", "err", err)
		}
		return
	}
	a, ok := n.db.loadAssignment(s.name)
	if !ok {
		return
	}
	s.log.Info("restored stored assignment", "parent", a.parent.ID.String(), "backup", a.backup.ID.String())
	s.setAssignment(a)
}

// persistAssignment saves a stream's new assignment.
func (n *Node) persistAssignment(stream string, a assignment) {
	if err := n.store().saveAssignment(stream, a); err != nil && !errors.Is(err, ErrClosed) {
		n.log.Warn("saving assignment", "stream", stream, "err", err)
	}
}

// rememberParent saves the addresses of a peer that has served this node
// as a parent, the address of the working connection first.
func (n *Node) rememberParent(id peer.ID, remote ma.Multiaddr, addrs []ma.Multiaddr) {
	if err := n.store().saveParent(id, mergeAddrs([]ma.Multiaddr{remote}, addrs)); err != nil && !errors.Is(err, ErrClosed) {
		n.log.Warn("saving parent addresses", "parent", id.String(), "err", err)
	}
}
