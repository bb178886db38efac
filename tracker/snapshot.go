package tracker

import (
	"fmt"
	"sort"
)

// Snapshot is the state of one stream's tree, for tests and the stats
// endpoint.
type Snapshot struct {
	Stream string      `json:"stream"`
	Root   string      `json:"root,omitempty"`
	Nodes  []NodeState `json:"nodes"`
}

// NodeState is one node of a Snapshot. Depth is -1 for a detached node.
type NodeState struct {
	ID          string `json:"id"`
	Parent      string `json:"parent,omitempty"`
	Backup      string `json:"backup,omitempty"`
	Depth       int    `json:"depth"`
	Children    int    `json:"children"`
	MaxChildren int    `json:"max_children"`
	Banned      bool   `json:"banned,omitempty"`
}

// Node returns the state of id and whether it is in the snapshot.
func (s Snapshot) Node(id string) (NodeState, bool) {
	for _, n := range s.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return NodeState{}, false
}

// MaxDepth returns the depth of the deepest node.
func (s Snapshot) MaxDepth() int {
	d := 0
	for _, n := range s.Nodes {
		d = max(d, n.Depth)
	}
	return d
}

// Snapshot returns the tree's state, shallowest nodes first.
func (t *Tree) Snapshot() Snapshot {
	s := Snapshot{Stream: t.stream, Root: t.root, Nodes: []NodeState{}}
	for _, m := range t.ordered() {
		s.Nodes = append(s.Nodes, NodeState{
			ID: m.id, Parent: m.parent, Backup: m.backup, Depth: m.depth,
			Children: len(m.children), MaxChildren: m.maxChildren, Banned: m.banned,
		})
	}
	sort.SliceStable(s.Nodes, func(i, j int) bool {
		di, dj := s.Nodes[i].Depth, s.Nodes[j].Depth
		if (di < 0) != (dj < 0) {
			return dj < 0
		}
		return di < dj
	})
	return s
}

// Check verifies the tree's invariants and returns the first violation:
// parent and child links agree; no cycles; depths are consistent; no node
// exceeds its max children; banned nodes have no children; backups are
// valid; a node is detached only when no slot could take it.
func (t *Tree) Check() error {
	for id, m := range t.nodes {
		if id == t.root {
			if m.parent != "" || m.depth != 0 {
				return fmt.Errorf("root %s has parent %q depth %d", id, m.parent, m.depth)
			}
		}
		if len(m.children) > m.maxChildren {
			return fmt.Errorf("%s has %d children, max %d", id, len(m.children), m.maxChildren)
		}
		if m.banned && len(m.children) > 0 {
			return fmt.Errorf("banned %s has %d children", id, len(m.children))
		}
		for c := range m.children {
			cm, ok := t.nodes[c]
			if !ok || cm.parent != id {
				return fmt.Errorf("%s lists child %s whose parent is not %s", id, c, id)
			}
		}
		if m.parent != "" {
			p, ok := t.nodes[m.parent]
			if !ok {
				return fmt.Errorf("%s has unknown parent %s", id, m.parent)
			}
			if _, ok := p.children[id]; !ok {
				return fmt.Errorf("%s not among children of its parent %s", id, m.parent)
			}
			want := -1
			if p.depth >= 0 {
				want = p.depth + 1
			}
			if m.depth != want {
				return fmt.Errorf("%s depth %d, parent %s depth %d", id, m.depth, p.id, p.depth)
			}
		}
		// Walking up must end at the root or a detached top within N steps.
		s, steps := m, 0
		for s.parent != "" {
			s = t.nodes[s.parent]
			if steps++; steps > len(t.nodes) {
				return fmt.Errorf("cycle through %s", id)
			}
		}
		if (s.id == t.root) != (m.depth >= 0) {
			return fmt.Errorf("%s depth %d but its top is %s", id, m.depth, s.id)
		}
		if id != t.root && m.depth >= 0 && m.backup != "" {
			b, ok := t.nodes[m.backup]
			if !ok || !t.backupOK(m, b) {
				return fmt.Errorf("%s has invalid backup %s", id, m.backup)
			}
		}
		if id != t.root && m.parent == "" && t.root != "" {
			if p := t.bestSlot(m, -1); p != nil {
				return fmt.Errorf("%s detached although %s has a slot", id, p.id)
			}
		}
	}
	return nil
}
