package tracker

import (
	"fmt"
	"testing"
)

// build makes a tree with root "r" of fan-out rootMax and joins ids in order
// with fan-out max.
func build(t *testing.T, rootMax, max int, ids ...string) *Tree {
	t.Helper()
	tr := NewTree("s")
	if err := tr.SetRoot("r", rootMax); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := tr.Join(id, max, ""); err != nil {
			t.Fatal(err)
		}
	}
	mustCheck(t, tr)
	return tr
}

func mustCheck(t *testing.T, tr *Tree) {
	t.Helper()
	if err := tr.Check(); err != nil {
		t.Fatal(err)
	}
}

func parents(tr *Tree) map[string]string {
	out := map[string]string{}
	for id, m := range tr.nodes {
		out[id] = m.parent
	}
	return out
}

func TestJoinPlacement(t *testing.T) {
	tests := []struct {
		name    string
		rootMax int
		max     int
		ids     []string
		rtt     map[string]map[string]uint32 // set before the node joins
		want    map[string]string
	}{
		{
			name: "shallowest first, join order breaks ties", rootMax: 2, max: 2,
			ids:  []string{"a", "b", "c", "d", "e"},
			want: map[string]string{"a": "r", "b": "r", "c": "a", "d": "a", "e": "b"},
		},
		{
			name: "known low RTT wins among equally shallow slots", rootMax: 2, max: 2,
			ids: []string{"a", "b", "c", "d"},
			rtt: map[string]map[string]uint32{"c": {"b": 900}, "d": {"a": 5000, "b": 100}},
			// c: a unknown, b known -> b; d: b lower -> b
			want: map[string]string{"a": "r", "b": "r", "c": "b", "d": "b"},
		},
		{
			name: "a shallower slot beats a closer deeper one", rootMax: 3, max: 2,
			ids:  []string{"a", "b", "c"},
			rtt:  map[string]map[string]uint32{"c": {"a": 10}},
			want: map[string]string{"a": "r", "b": "r", "c": "r"},
		},
		{
			name: "leaves with max_children 0 never parent", rootMax: 1, max: 0,
			ids:  []string{"a", "b"},
			want: map[string]string{"a": "r", "b": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTree("s")
			if err := tr.SetRoot("r", tc.rootMax); err != nil {
				t.Fatal(err)
			}
			for _, id := range tc.ids {
				// Join with the RTT known: add the node, then place it.
				if rtt, ok := tc.rtt[id]; ok {
					m := tr.newMember(id, tc.max)
					m.rtt = rtt
					if p := tr.bestSlot(m, -1); p != nil {
						tr.attach(m, p)
					}
					tr.settle()
				} else if err := tr.Join(id, tc.max, ""); err != nil {
					t.Fatal(err)
				}
				mustCheck(t, tr)
			}
			for id, want := range tc.want {
				if got := tr.Parent(id); got != want {
					t.Errorf("parent of %s = %q, want %q", id, got, want)
				}
			}
		})
	}
}

func TestJoinTwiceFails(t *testing.T) {
	tr := build(t, 2, 2, "a")
	if err := tr.Join("a", 2, ""); err == nil {
		t.Fatal("second join of a succeeded")
	}
	if err := tr.SetRoot("x", 2); err == nil {
		t.Fatal("second root accepted")
	}
}

func TestLeaveKeepsOthersInPlace(t *testing.T) {
	tr := build(t, 2, 2, "a", "b", "c", "d", "e", "f", "g")
	before := parents(tr)
	tr.Leave("g") // a leaf
	mustCheck(t, tr)
	for id, p := range parents(tr) {
		if before[id] != p {
			t.Errorf("%s moved from %s to %s after a leaf left", id, before[id], p)
		}
	}
}

func TestOrphanMovesToBackup(t *testing.T) {
	// r(2) -> a, b; a(2) -> c, d; b has room for one more.
	tr := build(t, 2, 2, "a", "b", "c", "d", "e")
	tr.Leave("e") // b now has two free slots
	mustCheck(t, tr)
	for _, id := range []string{"c", "d"} {
		l, _ := tr.Link(id)
		if l.Backup != "b" {
			t.Fatalf("backup of %s = %q, want b (the free shallow node)", id, l.Backup)
		}
	}
	tr.Leave("a")
	mustCheck(t, tr)
	// c takes r's freed slot? No: orphans go to their backup first.
	for _, id := range []string{"c", "d"} {
		if p := tr.Parent(id); p != "b" {
			t.Errorf("orphan %s went to %q, want its backup b", id, p)
		}
	}
}

func TestOrphanWithoutValidBackupTakesBestSlot(t *testing.T) {
	tr := build(t, 2, 2, "a", "b", "c", "d", "e", "f")
	// backups of c,d point at b (shallow) but b is full: they take the
	// freed slot at r.
	tr.Leave("a")
	mustCheck(t, tr)
	if p := tr.Parent("c"); p != "r" {
		t.Errorf("c went to %q, want r", p)
	}
	if p := tr.Parent("d"); p != "c" && p != "r" {
		t.Errorf("d went to %q", p)
	}
}

func TestBanMakesLeaf(t *testing.T) {
	tr := build(t, 2, 2, "a", "b", "c", "d", "e")
	if !tr.Ban("a") {
		t.Fatal("ban had no effect")
	}
	if tr.Ban("a") || tr.Ban("r") || tr.Ban("nobody") {
		t.Fatal("repeated ban, root ban or unknown ban changed something")
	}
	mustCheck(t, tr)
	for i := range 10 {
		if err := tr.Join(fmt.Sprint("n", i), 2, "a"); err != nil {
			t.Fatal(err)
		}
	}
	mustCheck(t, tr)
	for _, n := range tr.Snapshot().Nodes {
		if n.Parent == "a" || n.Backup == "a" {
			t.Fatalf("banned a is parent or backup of %s", n.ID)
		}
	}
	if p := tr.Parent("a"); p != "r" {
		t.Fatalf("banned a left its place: parent %q", p)
	}
}

func TestAdoptReportedParents(t *testing.T) {
	src := build(t, 2, 3, "a", "b", "c", "d", "e", "f", "g", "h", "i")
	src.Leave("c")
	src.Rebalance()
	snap := src.Snapshot()
	// Rebuild in snapshot order (parents before children), as reconnecting
	// nodes do when they wait for their parent.
	tr := NewTree("s")
	if err := tr.SetRoot("r", 2); err != nil {
		t.Fatal(err)
	}
	for _, n := range snap.Nodes {
		if n.ID == "r" {
			continue
		}
		if err := tr.Join(n.ID, n.MaxChildren, n.Parent); err != nil {
			t.Fatal(err)
		}
	}
	mustCheck(t, tr)
	for _, n := range snap.Nodes {
		if got := tr.Parent(n.ID); got != n.Parent {
			t.Errorf("%s rebuilt under %q, was %q", n.ID, got, n.Parent)
		}
	}
}

func TestAdoptRefusedWhenInconsistent(t *testing.T) {
	tests := []struct {
		name, want string
		prep       func(*Tree)
	}{
		{"unknown parent", "ghost", func(*Tree) {}},
		{"full parent", "a", func(tr *Tree) {
			_ = tr.Join("x", 1, "a")
			_ = tr.Join("y", 1, "a")
		}},
		{"banned parent", "a", func(tr *Tree) { tr.Ban("a") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := build(t, 3, 2, "a", "b")
			tc.prep(tr)
			if err := tr.Join("n", 2, tc.want); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, tr)
			if p := tr.Parent("n"); p == tc.want || p == "" {
				t.Fatalf("n placed under %q", p)
			}
		})
	}
}

func TestRootLossDetachesAndNewRootReattaches(t *testing.T) {
	tr := build(t, 2, 2, "a", "b", "c")
	tr.Leave("r")
	mustCheck(t, tr)
	for _, id := range []string{"a", "b", "c"} {
		if tr.Attached(id) {
			t.Fatalf("%s still attached without a root", id)
		}
	}
	if err := tr.SetRoot("r2", 2); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, tr)
	for _, id := range []string{"a", "b", "c"} {
		if !tr.Attached(id) {
			t.Errorf("%s not reattached", id)
		}
	}
	if p := tr.Parent("c"); p != "a" {
		t.Errorf("c's subtree link was lost: parent %q", p)
	}
}

func TestNoRootYet(t *testing.T) {
	tr := NewTree("s")
	if err := tr.Join("a", 2, ""); err != nil {
		t.Fatal(err)
	}
	if len(tr.Changes()) != 0 {
		t.Fatal("assignment without a root")
	}
	if err := tr.SetRoot("r", 2); err != nil {
		t.Fatal(err)
	}
	ch := tr.Changes()
	if len(ch) != 1 || ch[0] != (Link{Node: "a", Parent: "r", Depth: 1}) {
		t.Fatalf("changes = %+v", ch)
	}
}

func TestRebalanceMovesToStrictlyShallowerSlot(t *testing.T) {
	tr := build(t, 2, 2, "a", "b", "c", "d", "e", "f", "g")
	// g is at depth 3 under c. Free a depth-0 slot: b leaves, its children
	// e,f move to a backup or the root.
	if tr.Rebalance() != 0 {
		t.Fatal("rebalance moved nodes in a compact tree")
	}
	tr.Leave("b")
	mustCheck(t, tr)
	tr.Rebalance()
	mustCheck(t, tr)
	snap := tr.Snapshot()
	if d := snap.MaxDepth(); d > 2 {
		t.Fatalf("max depth %d after rebalance: %+v", d, snap.Nodes)
	}
}

func TestChangesReportsOnlyDifferences(t *testing.T) {
	tr := build(t, 2, 2, "a", "b")
	if n := len(tr.Changes()); n != 2 {
		t.Fatalf("%d first changes, want 2", n)
	}
	if n := len(tr.Changes()); n != 0 {
		t.Fatalf("%d changes without a change", n)
	}
	_ = tr.Join("c", 2, "")
	ch := tr.Changes()
	if len(ch) != 1 || ch[0].Node != "c" {
		t.Fatalf("changes after join = %+v", ch)
	}
}

func TestCandidates(t *testing.T) {
	tr := build(t, 2, 2, "a", "b", "c")
	got := tr.Candidates("c", 8)
	// c is under a: slots are b (depth 1) then c's own subtree is excluded,
	// and a (its parent) is skipped.
	if len(got) != 1 || got[0] != "b" {
		t.Fatalf("candidates = %v", got)
	}
	if len(tr.Candidates("c", 0)) != 0 || tr.Candidates("nobody", 8) != nil {
		t.Fatal("limits ignored")
	}
}
