package tracker

import (
	"fmt"
	"sort"
)

// Tree is the relay tree of one stream: a pure, deterministic assignment
// engine without I/O or clocks. It is not safe for concurrent use; the
// Tracker guards each Tree with its own mutex.
//
// Depth counts hops from the root (the root has depth 0). A node that has no
// way up to the root (no root yet, or no free slot) is detached and has
// depth -1 until a slot appears.
type Tree struct {
	stream    string
	root      string
	nodes     map[string]*member
	seq       uint64
	published map[string]Link
}

type member struct {
	id          string
	order       uint64 // join order: the deterministic tie-breaker
	maxChildren int
	parent      string
	backup      string
	children    map[string]struct{}
	depth       int
	banned      bool
	rtt         map[string]uint32 // RTT in µs measured by this node to peers
}

// Link is the assignment of one non-root node: what the tracker tells it.
type Link struct {
	Node   string
	Parent string
	Backup string
	Depth  int
}

// NewTree returns an empty tree for stream.
func NewTree(stream string) *Tree {
	return &Tree{stream: stream, nodes: map[string]*member{}, published: map[string]Link{}}
}

// Stream returns the stream this tree carries.
func (t *Tree) Stream() string { return t.stream }

// Root returns the root's ID, empty when the tree has none.
func (t *Tree) Root() string { return t.root }

// Len returns the number of nodes, root included.
func (t *Tree) Len() int { return len(t.nodes) }

// Has reports whether id is in the tree.
func (t *Tree) Has(id string) bool { _, ok := t.nodes[id]; return ok }

// Attached reports whether id is in the tree and connected to the root.
func (t *Tree) Attached(id string) bool {
	m, ok := t.nodes[id]
	return ok && m.depth >= 0
}

func (t *Tree) newMember(id string, maxChildren int) *member {
	if maxChildren < 0 {
		maxChildren = 0
	}
	t.seq++
	m := &member{id: id, order: t.seq, maxChildren: maxChildren, children: map[string]struct{}{}, depth: -1}
	t.nodes[id] = m
	return m
}

// SetRoot makes id the root of the tree. Detached nodes are attached below
// it. It fails when another root is present.
func (t *Tree) SetRoot(id string, maxChildren int) error {
	if t.root == id {
		return nil
	}
	if t.root != "" {
		return fmt.Errorf("%w: %s", ErrRootExists, t.root)
	}
	if _, ok := t.nodes[id]; ok {
		t.Leave(id)
	}
	m := t.newMember(id, maxChildren)
	t.root = id
	t.setDepth(m, 0)
	t.settle()
	return nil
}

// Join adds a node. When want names a node that can take it (attached, not
// banned, a free slot), the new node is placed there: this is how the tree
// is rebuilt from the parents nodes report after a tracker restart.
// Otherwise it takes the best free slot: the shallowest, then the lowest RTT.
func (t *Tree) Join(id string, maxChildren int, want string) error {
	if _, ok := t.nodes[id]; ok {
		return fmt.Errorf("%w: %s", ErrNodeExists, id)
	}
	m := t.newMember(id, maxChildren)
	if p, ok := t.nodes[want]; ok && t.slotFor(m, p) {
		t.attach(m, p)
	} else if p := t.bestSlot(m, -1); p != nil {
		t.attach(m, p)
	}
	t.settle()
	return nil
}

// Leave removes a node. Its children move to their backup parent when it is
// still valid (that is where they switch on their own), else to the best
// free slot. When the root leaves, the whole tree is detached until a new
// root arrives.
func (t *Tree) Leave(id string) {
	m, ok := t.nodes[id]
	if !ok {
		return
	}
	kids := t.sortedChildren(m)
	if m.parent != "" {
		delete(t.nodes[m.parent].children, id)
	}
	delete(t.nodes, id)
	delete(t.published, id)
	if id == t.root {
		t.root = ""
		for _, c := range kids {
			c.parent = ""
			t.setDepth(c, -1)
		}
	} else {
		t.rehome(kids)
	}
	t.settle()
}

// Ban marks a node reported for bad segments: it is never a parent or a
// backup in this tree again (it stays a leaf) and its children move away.
// The root cannot be banned. Ban reports whether anything changed.
func (t *Tree) Ban(id string) bool {
	m, ok := t.nodes[id]
	if !ok || id == t.root || m.banned {
		return false
	}
	m.banned = true
	t.rehome(t.sortedChildren(m))
	t.settle()
	return true
}

// Banned reports whether id was banned in this tree.
func (t *Tree) Banned(id string) bool {
	m, ok := t.nodes[id]
	return ok && m.banned
}

// SetRTT records the RTTs (µs) that node id measured to other peers. It
// steers later placements only; nobody is moved because of it.
func (t *Tree) SetRTT(id string, rtt map[string]uint32) {
	if m, ok := t.nodes[id]; ok {
		m.rtt = rtt
	}
}

// Parent returns the current parent of id.
func (t *Tree) Parent(id string) string {
	if m, ok := t.nodes[id]; ok {
		return m.parent
	}
	return ""
}

// Link returns the current assignment of id.
func (t *Tree) Link(id string) (Link, bool) {
	m, ok := t.nodes[id]
	if !ok || id == t.root {
		return Link{}, false
	}
	return Link{Node: id, Parent: m.parent, Backup: m.backup, Depth: m.depth}, true
}

// Changes returns the assignments that changed since the last call, in join
// order. Detached nodes and the root are not reported.
func (t *Tree) Changes() []Link {
	var out []Link
	for _, m := range t.ordered() {
		if m.id == t.root || m.parent == "" {
			continue
		}
		l := Link{Node: m.id, Parent: m.parent, Backup: m.backup, Depth: m.depth}
		if t.published[m.id] != l {
			t.published[m.id] = l
			out = append(out, l)
		}
	}
	return out
}

// Candidates returns up to k peers that id should measure its RTT to: the
// free slots it could move to, shallowest first.
func (t *Tree) Candidates(id string, k int) []string {
	m, ok := t.nodes[id]
	if !ok {
		return nil
	}
	var slots []*member
	for _, s := range t.ordered() {
		if s.id != m.parent && t.slotFor(m, s) {
			slots = append(slots, s)
		}
	}
	sort.SliceStable(slots, func(i, j int) bool { return slots[i].depth < slots[j].depth })
	var out []string
	for _, s := range slots {
		if len(out) == k {
			break
		}
		out = append(out, s.id)
	}
	return out
}
