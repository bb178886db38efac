package node

import (
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/manifest"
)

// browserQueueLen bounds the events queued for one super-peer subscriber.
// A subscriber that falls further behind loses events (counted): each
// event only says "look again", and the next one covers what it missed.
const browserQueueLen = 256

// BrowserSource returns the node's cache as the super-peer's view of it:
// the live broadcasts the node carries, the verified media segments it
// holds, and an event for every new one.
func (n *Node) BrowserSource() superpeer.Source { return (*browserSource)(n) }

type browserSource Node

func (b *browserSource) node() *Node { return (*Node)(b) }

func (b *browserSource) Streams() []superpeer.StreamInfo {
	var out []superpeer.StreamInfo
	for _, s := range b.node().streamList() {
		info := s.info()
		if info.Broadcast == "" || info.Ended || len(info.Renditions) == 0 {
			// An ended broadcast's playlist carries EXT-X-ENDLIST, after
			// which p2p-media-loader numbers segments by playlist position
			// rather than by media sequence: serving it would mislabel them.
			continue
		}
		out = append(out, superpeer.StreamInfo{Stream: info.Stream, Broadcast: info.Broadcast,
			Renditions: masterRenditions(info)})
	}
	return out
}

func (b *browserSource) Have(stream, rendition string) []uint64 {
	return b.node().Sequences(stream, rendition)
}

func (b *browserSource) Segment(stream, rendition string, seq uint64) ([]byte, bool) {
	_, data, ok := b.node().segment(stream, rendition, proto.KindMedia, seq)
	return data, ok && data != nil
}

func (b *browserSource) Subscribe() (<-chan superpeer.Event, func()) {
	return b.node().events.subscribe()
}

// masterRenditions are a StreamInfo's renditions as the node's master
// playlist lists them. The super-peer derives swarm keys from exactly
// these values, so both must come from here.
func masterRenditions(info StreamInfo) []manifest.Rendition {
	out := make([]manifest.Rendition, 0, len(info.Renditions))
	for _, r := range info.Renditions {
		out = append(out, manifest.Rendition{
			Name: r.Name, Width: r.Width, Height: r.Height, Codecs: r.Codecs,
			FrameRate: r.FrameRate, Bandwidth: max(r.Bandwidth, 1),
		})
	}
	return out
}

// eventHub fans node events out to super-peer subscribers without ever
// blocking the segment path.
type eventHub struct {
	mu      sync.Mutex
	subs    map[chan superpeer.Event]struct{}
	dropped atomic.Uint64
}

func (h *eventHub) subscribe() (<-chan superpeer.Event, func()) {
	ch := make(chan superpeer.Event, browserQueueLen)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan superpeer.Event]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, ch)
			h.mu.Unlock()
		})
	}
}

func (h *eventHub) notify(e superpeer.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
			h.dropped.Add(1)
		}
	}
}

// RelayAuthHeader returns the header that identifies this node to the
// browser tracker at trackerURL as a relay (proto.RelayAuthHeader, signed
// with the node's libp2p key for the tracker's host). It returns nil when
// the URL or the key is unusable: the super-peer then joins as a plain peer.
func (n *Node) RelayAuthHeader(trackerURL string) http.Header {
	u, err := url.Parse(trackerURL)
	if err != nil || u.Host == "" {
		return nil
	}
	priv := n.p.Host.Peerstore().PrivKey(n.p.Host.ID())
	if priv == nil {
		return nil
	}
	v, err := proto.SignRelayAuth(priv, u.Host, n.now())
	if err != nil {
		n.log.Warn("relay auth header", "err", err)
		return nil
	}
	return http.Header{proto.RelayAuthHeader: {v}}
}
