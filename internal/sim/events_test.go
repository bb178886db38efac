package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestQueueOrder pushes events near and far (beyond the ring's horizon),
// and more while popping (into the slot being consumed, too), and checks
// that they come out exactly in (at, seq) order, each once.
func TestQueueOrder(t *testing.T) {
	var q queue
	r := rand.New(rand.NewPCG(1, 2))
	var want []event
	push := func(at int64) {
		q.push(event{at: at})
		want = append(want, event{at: at, seq: q.seq})
	}
	delays := []int64{0, 1, slotNs / 2, slotNs, 40 * slotNs, ringSlots*slotNs - 1, ringSlots * slotNs, 3 * ringSlots * slotNs}
	for range 2000 {
		push(int64(r.IntN(50)) + delays[r.IntN(len(delays))])
	}
	var got []event
	now := int64(0)
	for q.len() > 0 {
		e := q.pop()
		if e.at < now {
			t.Fatalf("event at %d popped after time %d", e.at, now)
		}
		now = e.at
		got = append(got, event{at: e.at, seq: e.seq})
		if len(want) < 20000 {
			for range r.IntN(3) {
				push(now + delays[r.IntN(len(delays))] + int64(r.IntN(3)))
			}
		}
	}
	slices.SortFunc(want, cmpEvents)
	if !slices.Equal(got, want) {
		t.Fatalf("popped %d events, want %d in (at, seq) order", len(got), len(want))
	}
}
