package tracker

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// ceilLog returns the smallest k with f^k >= n (n >= 1, f >= 2).
func ceilLog(n, f int) int {
	k, p := 0, 1
	for p < n {
		p *= f
		k++
	}
	return k
}

// churn runs ops random operations on a tree and calls check after each.
type churnParams struct {
	seed      uint64
	ops       int
	fanout    func(r *rand.Rand) int
	banRate   int // percent of operations that ban a node
	rebalance bool
}

func churn(t *testing.T, p churnParams, check func(tr *Tree, op string)) {
	t.Helper()
	r := rand.New(rand.NewPCG(p.seed, 7))
	tr := NewTree("s")
	if err := tr.SetRoot("root", p.fanout(r)); err != nil {
		t.Fatal(err)
	}
	var live []string
	next := 0
	for i := range p.ops {
		roll := r.IntN(100)
		var op string
		switch {
		case roll < p.banRate && len(live) > 0:
			id := live[r.IntN(len(live))]
			op = "ban " + id
			before := parents(tr)
			kids := tr.nodes[id].children
			was := map[string]bool{}
			for c := range kids {
				was[c] = true
			}
			tr.Ban(id)
			for nid, par := range parents(tr) {
				if before[nid] != par && !was[nid] {
					t.Fatalf("op %d %s: %s moved although not a child", i, op, nid)
				}
			}
		case roll < 65 || len(live) < 3:
			id := fmt.Sprintf("n%d", next)
			next++
			op = "join " + id
			before := parents(tr)
			if err := tr.Join(id, p.fanout(r), ""); err != nil {
				t.Fatal(err)
			}
			for nid, par := range before {
				if tr.Parent(nid) != par && par != "" {
					t.Fatalf("op %d %s: %s moved from %s", i, op, nid, par)
				}
			}
		case roll < 90:
			k := r.IntN(len(live))
			id := live[k]
			live = append(live[:k], live[k+1:]...)
			op = "leave " + id
			before := parents(tr)
			tr.Leave(id)
			for nid, par := range parents(tr) {
				if before[nid] != par && before[nid] != id && before[nid] != "" {
					t.Fatalf("op %d %s: %s moved from %s to %s", i, op, nid, before[nid], par)
				}
			}
		default:
			id := live[r.IntN(len(live))]
			op = "rtt " + id
			rtt := map[string]uint32{}
			for range 4 {
				rtt[live[r.IntN(len(live))]] = uint32(r.IntN(100000))
			}
			tr.SetRTT(id, rtt)
		}
		if op[:4] == "join" {
			live = append(live, op[5:])
		}
		if p.rebalance {
			tr.Rebalance()
		}
		if err := tr.Check(); err != nil {
			t.Fatalf("op %d %s: %v", i, op, err)
		}
		check(tr, fmt.Sprintf("op %d %s", i, op))
	}
}

func TestPropertyUniformFanout(t *testing.T) {
	for _, f := range []int{2, 3, 4, 8} {
		for seed := range uint64(5) {
			t.Run(fmt.Sprintf("f%d/seed%d", f, seed), func(t *testing.T) {
				churn(t, churnParams{
					seed: seed, ops: 200, rebalance: true,
					fanout: func(*rand.Rand) int { return f },
				}, func(tr *Tree, op string) {
					snap := tr.Snapshot()
					n := len(snap.Nodes) - 1
					for _, ns := range snap.Nodes {
						if ns.ID != snap.Root && ns.Parent == "" {
							t.Fatalf("%s: %s has no parent", op, ns.ID)
						}
					}
					if n >= 1 {
						if d, bound := snap.MaxDepth(), ceilLog(n, f)+1; d > bound {
							t.Fatalf("%s: depth %d > %d for N=%d f=%d", op, d, bound, n, f)
						}
					}
				})
			})
		}
	}
}

func TestPropertyMixedFanoutWithBans(t *testing.T) {
	for seed := range uint64(10) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			banned := map[string]bool{}
			churn(t, churnParams{
				seed: seed, ops: 200, banRate: 5, rebalance: seed%2 == 0,
				fanout: func(r *rand.Rand) int { return r.IntN(5) },
			}, func(tr *Tree, op string) {
				for _, ns := range tr.Snapshot().Nodes {
					if ns.Banned {
						banned[ns.ID] = true
					}
				}
				for _, ns := range tr.Snapshot().Nodes {
					if banned[ns.Parent] || banned[ns.Backup] {
						t.Fatalf("%s: banned node is parent/backup of %s", op, ns.ID)
					}
				}
			})
		})
	}
}

// TestDeterministic: the same operations give the same tree.
func TestDeterministic(t *testing.T) {
	run := func() Snapshot {
		var last Snapshot
		churn(t, churnParams{seed: 42, ops: 200, banRate: 3, rebalance: true,
			fanout: func(r *rand.Rand) int { return 1 + r.IntN(4) }},
			func(tr *Tree, _ string) { last = tr.Snapshot() })
		return last
	}
	a, b := run(), run()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("two runs differ:\n%v\n%v", a, b)
	}
}
