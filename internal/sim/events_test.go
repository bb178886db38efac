package sim

import (
	"math/rand/v2"
	"testing"
)

func TestQueueOrder(t *testing.T) {
	var q queue
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		q.push(event{at: int64(r.IntN(50)), x: uint32(i)})
	}
	var last event
	for i := 0; q.len() > 0; i++ {
		e := q.pop()
		if i > 0 && (e.at < last.at || (e.at == last.at && e.seq < last.seq)) {
			t.Fatalf("event %d (at %d seq %d) after (at %d seq %d)", i, e.at, e.seq, last.at, last.seq)
		}
		last = e
	}
}
