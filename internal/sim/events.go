package sim

import "slices"

// kind is what an event does.
type kind uint8

const (
	evSeal          kind = iota // segment k sealed at the origin
	evJoin                      // viewer v opens the page
	evStart                     // viewer v has the playlist: picks its start segment
	evAnnounce                  // viewer v announces to the tracker (its offers become connections)
	evNotice                    // viewer v sees segment k in the playlist
	evTimer                     // viewer v re-evaluates (a window edge, a relay receiving a segment)
	evDone                      // a download of segment k by viewer v ends (x = transfer id)
	evFail                      // a peer request of viewer v times out (x = transfer id)
	evLeave                     // viewer v leaves; a new viewer takes its place
	evRelayAnnounce             // relay v sends offers to viewers
	evSample                    // end of a time-series bucket
)

// event is one scheduled action. seq orders events at the same time in the
// order they were scheduled, so runs are deterministic.
type event struct {
	at   int64 // ns of simulated time
	seq  uint64
	v    int32
	k    int32
	gen  uint32
	x    uint32
	kind kind
}

func before(a, b *event) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }

func cmpEvents(a, b event) int {
	switch {
	case before(&a, &b):
		return -1
	case before(&b, &a):
		return 1
	}
	return 0
}

// The calendar: slotNs-wide time slots in a ring of ringSlots, about 16 s
// ahead of the current slot; later events wait in a heap.
const (
	slotNs    = int64(1_000_000) // 1 ms
	ringSlots = 1 << 14
)

// queue pops events in (at, seq) order. It is a calendar queue: an event
// within the ring's horizon is appended to its time slot, and a slot is
// sorted once when the clock reaches it, so most pushes and pops touch
// contiguous memory instead of a heap of a few hundred thousand events
// (the binary heap this replaced spent 40 % of a 100,000-viewer run).
// Events beyond the horizon (announces, departures) go to a heap and move
// into their slot when the clock gets there. Events are never scheduled
// before the last one popped.
type queue struct {
	ring   [][]event
	cur    int64     // slot being consumed (absolute slot number)
	pos    int       // next event of ring[cur % ringSlots]
	sorted bool      // ring[cur % ringSlots] is sorted from pos on
	inRing int       // events in the ring not yet popped
	far    heap      // events beyond the ring's horizon
	spare  [][]event // emptied slots' arrays, for the next slot to fill
	seq    uint64
}

func (q *queue) len() int { return q.inRing + len(q.far.ev) }

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	if q.ring == nil {
		q.ring = make([][]event, ringSlots)
	}
	slot := max(e.at/slotNs, q.cur)
	if slot-q.cur >= ringSlots {
		q.far.push(e)
		return
	}
	q.inRing++
	b := &q.ring[slot%ringSlots]
	if slot != q.cur || !q.sorted {
		if cap(*b) == 0 && len(q.spare) > 0 {
			*b = q.spare[len(q.spare)-1]
			q.spare = q.spare[:len(q.spare)-1]
		}
		*b = append(*b, e)
		return
	}
	// The slot being consumed: insert in order among the events not yet
	// popped. e has the largest seq, so it goes after every event at or
	// before e.at.
	rest := (*b)[q.pos:]
	i, _ := slices.BinarySearchFunc(rest, e, func(x, t event) int {
		if x.at <= t.at {
			return -1
		}
		return 1
	})
	*b = slices.Insert(*b, q.pos+i, e)
}

// pop removes and returns the first event; the queue must not be empty.
func (q *queue) pop() event {
	for {
		b := &q.ring[q.cur%ringSlots]
		if !q.sorted {
			// Entering the slot: take the far events that fall into it.
			for len(q.far.ev) > 0 && q.far.ev[0].at/slotNs <= q.cur {
				*b = append(*b, q.far.pop())
				q.inRing++
			}
			slices.SortFunc(*b, cmpEvents)
			q.sorted, q.pos = true, 0
		}
		if q.pos < len(*b) {
			e := (*b)[q.pos]
			q.pos++
			q.inRing--
			return e
		}
		if cap(*b) > 0 {
			// Hand the array on rather than keep one per slot: memory
			// stays about the events pending, not the ring × the busiest
			// slot.
			q.spare = append(q.spare, (*b)[:0])
			*b = nil
		}
		q.sorted = false
		q.cur++
		if q.inRing == 0 && len(q.far.ev) > 0 {
			q.cur = max(q.cur, q.far.ev[0].at/slotNs) // nothing near: jump
		}
	}
}

// heap is a binary min-heap of events by (at, seq), written out rather
// than built on container/heap to avoid an interface call per comparison.
type heap struct{ ev []event }

func (h *heap) push(e event) {
	h.ev = append(h.ev, e)
	i := len(h.ev) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !before(&h.ev[i], &h.ev[p]) {
			break
		}
		h.ev[i], h.ev[p] = h.ev[p], h.ev[i]
		i = p
	}
}

func (h *heap) pop() event {
	top := h.ev[0]
	n := len(h.ev) - 1
	h.ev[0] = h.ev[n]
	h.ev = h.ev[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && before(&h.ev[r], &h.ev[l]) {
			m = r
		}
		if !before(&h.ev[m], &h.ev[i]) {
			break
		}
		h.ev[i], h.ev[m] = h.ev[m], h.ev[i]
		i = m
	}
	return top
}
