package superpeer

import "github.com/canopylive/canopy/proto/manifest"

// Source is what the relay node gives the super-peer.
type Source interface {
	// Streams returns the live broadcasts currently carried.
	Streams() []StreamInfo
	// Have returns the media sequence numbers held for stream/rendition,
	// ascending. It is called once per announcement change, not per peer.
	Have(stream, rendition string) []uint64
	// Segment returns the bytes of media segment seq. Only verified
	// segments are ever held. The super-peer does not modify the slice.
	Segment(stream, rendition string, seq uint64) ([]byte, bool)
	// Subscribe delivers an event for each newly held segment and each
	// change of Streams(). The super-peer reads events until it stops and
	// then calls cancel; the Source should buffer or drop rather than block.
	Subscribe() (events <-chan Event, cancel func())
}

// StreamInfo is one broadcast the node carries.
type StreamInfo struct {
	Stream, Broadcast string
	// Renditions exactly as they are rendered into the master playlist
	// browsers load (the manifest.HLSMultivariant input, e.g. what
	// node's HTTP handler passes). p2p-media-loader keys each rendition's
	// swarm on the BANDWIDTH, CODECS, RESOLUTION and FRAME-RATE it reads
	// there, not on the rendition's name or position.
	Renditions []manifest.Rendition
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// EventSegment: segment Seq of Stream/Rendition is now held.
	EventSegment EventKind = iota + 1
	// EventStreams: the result of Streams() changed.
	EventStreams
)

// Event is delivered by Source.Subscribe.
type Event struct {
	Kind              EventKind
	Stream, Rendition string
	Seq               uint64
}
