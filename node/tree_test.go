package node

import (
	"testing"
	"time"
)

// TestTreeDeliversEverySegment builds root -> {a, b}, a -> {c, d}, b -> e,
// c -> f and checks every node ends with byte-identical copies, no gaps.
func TestTreeDeliversEverySegment(t *testing.T) {
	o := newOrigin(t, 3, 4<<10)
	root := newTestNode(t, o, true)
	nodes := map[string]*Node{}
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		nodes[name] = newTestNode(t, o, false)
	}
	tree := []struct{ child, parent, backup string }{
		{"a", "root", ""}, {"b", "root", ""}, {"c", "a", "root"},
		{"d", "a", "b"}, {"e", "b", "a"}, {"f", "c", "d"},
	}
	byName := func(s string) *Node {
		if s == "root" {
			return root
		}
		return nodes[s]
	}
	for _, l := range tree {
		backup := addrOf(root)
		if l.backup != "" {
			backup = addrOf(byName(l.backup))
		}
		if err := nodes[l.child].Assign(testStream, addrOf(byName(l.parent)), backup); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"root": 2, "a": 2, "b": 1, "c": 1}
	for name, k := range want {
		eventually(t, 10*time.Second, name+" children attached", func() bool { return children(byName(name)) == k })
	}

	o.publishInits(t, root)
	const total = 20
	for seq := range uint64(total) {
		o.publishColumn(t, root, seq)
	}
	for name, n := range nodes {
		eventually(t, 10*time.Second, name+" has every segment", func() bool { return hasAll(n, o, total) })
		sameAs(t, name, n, root, o, total)
		if got := n.Info(testStream); !got.equal(o.info) {
			t.Errorf("%s: info %+v, want %+v", name, got, o.info)
		}
	}
	// Segment frames carry at least their data: root and a each fed two
	// children every media segment of every rendition; leaf f fed nobody.
	media := float64(2 * total * len(o.info.Renditions) * o.size)
	for _, name := range []string{"root", "a"} {
		eventually(t, 10*time.Second, name+" counts forwarded bytes", func() bool {
			return counterValue(t, byName(name).metrics.fwdBytes) >= media
		})
	}
	if got := counterValue(t, nodes["f"].metrics.fwdBytes); got != 0 {
		t.Errorf("leaf f forwarded %v bytes, want 0", got)
	}
	if p := nodes["f"].Parent(testStream); p != nodes["c"].p.Host.ID() {
		t.Errorf("f's parent is %s, want c", p)
	}
}

// TestKillMiddleNode kills a node with two children while the root keeps
// publishing; both children switch to their backups within a second and
// end with every segment.
func TestKillMiddleNode(t *testing.T) {
	o := newOrigin(t, 2, 2<<10)
	root := newTestNode(t, o, true)
	b := newTestNode(t, o, false)
	mid := newTestNode(t, o, false)
	kids := []*Node{newTestNode(t, o, false), newTestNode(t, o, false)}
	if err := b.Assign(testStream, addrOf(root), addrOf(root)); err != nil {
		t.Fatal(err)
	}
	if err := mid.Assign(testStream, addrOf(root), addrOf(b)); err != nil {
		t.Fatal(err)
	}
	backups := []*Node{root, b}
	for i, k := range kids {
		if err := k.Assign(testStream, addrOf(mid), addrOf(backups[i])); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "tree attached", func() bool {
		return children(root) == 2 && children(b) == 0 && children(mid) == 2
	})

	o.publishInits(t, root)
	var seq uint64
	publishUntil := func(cond func() bool) {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() && time.Now().Before(deadline) {
			o.publishColumn(t, root, seq)
			seq++
			<-tick.C
		}
	}
	publishUntil(func() bool { return seq >= 10 && hasAll(kids[0], o, seq) && hasAll(kids[1], o, seq) })

	killed := time.Now()
	if err := mid.Close(); err != nil {
		t.Fatal(err)
	}
	if err := mid.p.Host.Close(); err != nil {
		t.Fatal(err)
	}
	publishUntil(func() bool { return len(kids[0].Reattachments()) > 0 && len(kids[1].Reattachments()) > 0 })
	for i, k := range kids {
		r := k.Reattachments()
		if len(r) != 1 || r[0] > time.Second {
			t.Errorf("kid %d re-attach times %v (killed %v ago), want one under 1s", i, r, time.Since(killed))
		}
		if p := k.Parent(testStream); p != backups[i].p.Host.ID() {
			t.Errorf("kid %d parent %s, want its backup", i, p)
		}
	}
	publishUntil(func() bool { return seq >= 30 })
	last := seq
	for i, k := range append(kids, b) {
		eventually(t, 10*time.Second, "every segment", func() bool { return hasAll(k, o, last) })
		sameAs(t, []string{"kid0", "kid1", "b"}[i], k, root, o, last)
	}
}
