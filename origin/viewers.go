package origin

import (
	"sync"
	"time"
)

// viewerCounter estimates viewers per stream as the distinct client
// addresses that fetched a playlist or segment in the last window. With P2P
// on, viewers that get everything from peers still poll playlists here.
type viewerCounter struct {
	mu     sync.Mutex
	now    func() time.Time
	seen   map[string]map[string]time.Time // stream -> client -> last seen
	window time.Duration
}

// maxTrackedViewers bounds memory per stream against address floods.
const maxTrackedViewers = 100_000

func newViewerCounter(now func() time.Time) *viewerCounter {
	return &viewerCounter{now: now, seen: map[string]map[string]time.Time{}, window: 30 * time.Second}
}

func (v *viewerCounter) touch(stream, client string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.seen[stream]
	if m == nil {
		m = map[string]time.Time{}
		v.seen[stream] = m
	}
	if _, ok := m[client]; !ok && len(m) >= maxTrackedViewers {
		v.pruneLocked(m)
		if len(m) >= maxTrackedViewers {
			return
		}
	}
	m[client] = v.now()
}

func (v *viewerCounter) count(stream string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.seen[stream]
	v.pruneLocked(m)
	return len(m)
}

func (v *viewerCounter) pruneLocked(m map[string]time.Time) {
	cut := v.now().Add(-v.window)
	for k, t := range m {
		if t.Before(cut) {
			delete(m, k)
		}
	}
}
