package tracker

import "sort"

// ordered returns all members in join order.
func (t *Tree) ordered() []*member {
	out := make([]*member, 0, len(t.nodes))
	for _, m := range t.nodes {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out
}

func (t *Tree) sortedChildren(m *member) []*member {
	out := make([]*member, 0, len(m.children))
	for id := range m.children {
		out = append(out, t.nodes[id])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out
}

// attach hangs the detached node m below p.
func (t *Tree) attach(m, p *member) {
	m.parent = p.id
	p.children[m.id] = struct{}{}
	d := -1
	if p.depth >= 0 {
		d = p.depth + 1
	}
	t.setDepth(m, d)
}

// detach cuts m from its parent; its subtree goes with it.
func (t *Tree) detach(m *member) {
	if p, ok := t.nodes[m.parent]; ok {
		delete(p.children, m.id)
	}
	m.parent = ""
	t.setDepth(m, -1)
}

// setDepth sets m's depth to d and its descendants' accordingly (-1 stays
// -1 throughout a detached subtree).
func (t *Tree) setDepth(m *member, d int) {
	m.depth = d
	for id := range m.children {
		c := t.nodes[id]
		if d < 0 {
			t.setDepth(c, -1)
		} else {
			t.setDepth(c, d+1)
		}
	}
}

// inSubtree reports whether s is m or one of its descendants.
func (t *Tree) inSubtree(s, m *member) bool {
	for steps := 0; s != nil && steps <= len(t.nodes); steps++ {
		if s == m {
			return true
		}
		if s.parent == "" {
			return false
		}
		s = t.nodes[s.parent]
	}
	return false
}

// canParent reports whether s may carry children at all.
func (t *Tree) canParent(s *member) bool {
	return s.depth >= 0 && !s.banned && s.maxChildren > 0
}

// slotFor reports whether m can be hung below s right now.
func (t *Tree) slotFor(m, s *member) bool {
	if s == m || !t.canParent(s) || len(s.children) >= s.maxChildren {
		return false
	}
	if _, mine := s.children[m.id]; mine {
		return false
	}
	return !t.inSubtree(s, m)
}

// rttOf returns the RTT m measured to s; unknown ranks after every known.
func rttOf(m, s *member) (uint32, bool) {
	v, ok := m.rtt[s.id]
	return v, ok
}

// closer reports whether a ranks before b as a place for m at equal depth:
// known RTT before unknown, lower RTT first, then join order.
func closer(m, a, b *member) bool {
	ra, ka := rttOf(m, a)
	rb, kb := rttOf(m, b)
	if ka != kb {
		return ka
	}
	if ka && ra != rb {
		return ra < rb
	}
	return a.order < b.order
}

// bestSlot returns the best free slot for m, the shallowest first, among
// slots of depth at most maxDepth (no limit when maxDepth < 0).
func (t *Tree) bestSlot(m *member, maxDepth int) *member {
	var best *member
	for _, s := range t.nodes {
		if maxDepth >= 0 && s.depth > maxDepth {
			continue
		}
		if !t.slotFor(m, s) {
			continue
		}
		if best == nil || s.depth < best.depth || (s.depth == best.depth && closer(m, s, best)) {
			best = s
		}
	}
	return best
}

// rehome moves orphans (already cut from their dead or banned parent, or
// about to be) to their backup when it can take them, else to the best
// free slot; without either they stay detached.
func (t *Tree) rehome(kids []*member) {
	for _, c := range kids {
		t.detach(c)
		if b, ok := t.nodes[c.backup]; ok && t.slotFor(c, b) {
			t.attach(c, b)
		} else if p := t.bestSlot(c, -1); p != nil {
			t.attach(c, p)
		}
	}
}

// settle runs after every change: detached nodes are attached where
// possible, and invalid backups are replaced.
func (t *Tree) settle() {
	if t.root != "" {
		for _, m := range t.ordered() {
			if m.parent == "" && m.id != t.root {
				if p := t.bestSlot(m, -1); p != nil {
					t.attach(m, p)
				}
			}
		}
	}
	for _, m := range t.ordered() {
		if m.id == t.root {
			continue
		}
		if m.parent == "" || m.depth < 0 {
			m.backup = ""
			continue
		}
		if b, ok := t.nodes[m.backup]; !ok || !t.backupOK(m, b) {
			m.backup = t.bestBackup(m)
		}
	}
}

// backupOK: a backup is a different, attached, unbanned node outside m's
// subtree, not m's parent, no deeper than m.
func (t *Tree) backupOK(m, b *member) bool {
	return b != m && b.id != m.parent && t.canParent(b) && b.depth <= m.depth && !t.inSubtree(b, m)
}

// bestBackup ranks valid backups: those with a free slot first, then the
// shallowest, then by RTT and join order.
func (t *Tree) bestBackup(m *member) string {
	var best *member
	bestFree := false
	for _, b := range t.nodes {
		if !t.backupOK(m, b) {
			continue
		}
		free := len(b.children) < b.maxChildren
		switch {
		case best == nil:
		case free != bestFree:
			if !free {
				continue
			}
		case b.depth != best.depth:
			if b.depth > best.depth {
				continue
			}
		case !closer(m, b, best):
			continue
		}
		best, bestFree = b, free
	}
	if best == nil {
		return ""
	}
	return best.id
}

// Rebalance moves nodes up while a slot at least two levels shallower than
// the deepest node exists, so depth stays within ⌈log_f N⌉+1. Only the
// deepest nodes (leaves) move, newest first; it returns how many moved.
func (t *Tree) Rebalance() int {
	moved := 0
	for range len(t.nodes) {
		var deep *member
		for _, m := range t.nodes {
			if m.depth < 0 || m.id == t.root {
				continue
			}
			if deep == nil || m.depth > deep.depth || (m.depth == deep.depth && m.order > deep.order) {
				deep = m
			}
		}
		if deep == nil || deep.depth < 2 {
			break
		}
		p := t.bestSlot(deep, deep.depth-2)
		if p == nil {
			break
		}
		t.detach(deep)
		t.attach(deep, p)
		moved++
	}
	if moved > 0 {
		t.settle()
	}
	return moved
}
