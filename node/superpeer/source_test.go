package superpeer

import (
	"slices"
	"sync"

	"github.com/canopylive/canopy/proto/manifest"
)

// memSource is an in-memory Source for tests.
type memSource struct {
	mu      sync.Mutex
	streams []StreamInfo
	segs    map[[2]string]map[uint64][]byte
	subs    map[chan Event]struct{}
}

func newMemSource(streams ...StreamInfo) *memSource {
	return &memSource{streams: streams, segs: map[[2]string]map[uint64][]byte{}, subs: map[chan Event]struct{}{}}
}

func (m *memSource) Streams() []StreamInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.streams)
}

func (m *memSource) Have(stream, rendition string) []uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []uint64
	for seq := range m.segs[[2]string{stream, rendition}] {
		out = append(out, seq)
	}
	slices.Sort(out)
	return out
}

func (m *memSource) Segment(stream, rendition string, seq uint64) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.segs[[2]string{stream, rendition}][seq]
	return b, ok
}

func (m *memSource) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 64)
	m.mu.Lock()
	m.subs[ch] = struct{}{}
	m.mu.Unlock()
	return ch, func() {
		m.mu.Lock()
		delete(m.subs, ch)
		m.mu.Unlock()
	}
}

// add stores a segment and tells subscribers.
func (m *memSource) add(stream, rendition string, seq uint64, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{stream, rendition}
	if m.segs[k] == nil {
		m.segs[k] = map[uint64][]byte{}
	}
	m.segs[k][seq] = data
	m.emit(Event{Kind: EventSegment, Stream: stream, Rendition: rendition, Seq: seq})
}

// setStreams replaces the stream list and tells subscribers.
func (m *memSource) setStreams(streams ...StreamInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.streams = streams
	m.emit(Event{Kind: EventStreams})
}

func (m *memSource) emit(ev Event) {
	for ch := range m.subs {
		ch <- ev // buffered; tests add far fewer events than the buffer holds
	}
}

// Renditions used by the tests (a two-rung ladder of stream "demo").
var (
	rend720 = manifest.Rendition{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3000000,
		Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 25}
	rend480 = manifest.Rendition{Name: "480p", Width: 854, Height: 480, Bandwidth: 1400000,
		Codecs: "avc1.4d401e,mp4a.40.2", FrameRate: 30}
	demoStream = StreamInfo{Stream: "demo", Broadcast: "b1", Renditions: []manifest.Rendition{rend720, rend480}}
)
