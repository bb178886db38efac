package sim

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

// queue is a binary min-heap of events by (at, seq). It is written out
// rather than built on container/heap to avoid an interface call per
// comparison: the heap holds about one event per viewer.
type queue struct {
	ev  []event
	seq uint64
}

func (q *queue) len() int { return len(q.ev) }

func (q *queue) less(i, j int) bool {
	a, b := &q.ev[i], &q.ev[j]
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.ev = append(q.ev, e)
	i := len(q.ev) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.ev[i], q.ev[p] = q.ev[p], q.ev[i]
		i = p
	}
}

func (q *queue) pop() event {
	top := q.ev[0]
	n := len(q.ev) - 1
	q.ev[0] = q.ev[n]
	q.ev = q.ev[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			break
		}
		q.ev[i], q.ev[m] = q.ev[m], q.ev[i]
		i = m
	}
	return top
}
