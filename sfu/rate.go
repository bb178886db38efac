package sfu

import "time"

// meter counts bytes over a sliding window of fixed-width buckets. It is not
// safe for concurrent use (its owner's mutex guards it).
type meter struct {
	width  time.Duration
	counts []uint64
	head   int64     // absolute number of the newest bucket
	first  time.Time // first add: the window is shorter until it fills
	has    bool
}

func newMeter(window time.Duration, buckets int) meter {
	return meter{width: window / time.Duration(buckets), counts: make([]uint64, buckets)}
}

// advance moves the window to now, zeroing the buckets that fall out.
func (m *meter) advance(now time.Time) {
	b := now.UnixNano() / int64(m.width)
	if !m.has {
		m.head, m.first, m.has = b, now, true
		return
	}
	steps := b - m.head
	if steps <= 0 {
		return // same bucket (or a clock step back: count it in the newest)
	}
	n := int64(len(m.counts))
	if steps >= n {
		clear(m.counts)
	} else {
		for i := int64(1); i <= steps; i++ {
			m.counts[(m.head+i)%n] = 0
		}
	}
	m.head = b
}

// add counts n bytes at now.
func (m *meter) add(now time.Time, n int) {
	m.advance(now)
	m.counts[m.head%int64(len(m.counts))] += uint64(n)
}

// sum is the bytes counted in the window ending at now.
func (m *meter) sum(now time.Time) uint64 {
	if !m.has {
		return 0
	}
	m.advance(now)
	var s uint64
	for _, c := range m.counts {
		s += c
	}
	return s
}

// bitrate is the bytes in the window ending at now, in bits per second over
// the time the window really covers (less than its length while it fills).
func (m *meter) bitrate(now time.Time) int {
	s := m.sum(now)
	if s == 0 {
		return 0
	}
	start := time.Unix(0, (m.head-int64(len(m.counts))+1)*int64(m.width))
	if m.first.After(start) {
		start = m.first
	}
	span := now.Sub(start)
	if span < m.width {
		span = m.width // too short to say more than one bucket's worth
	}
	return int(float64(s) * 8 / span.Seconds())
}
