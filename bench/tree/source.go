package main

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/proto"
)

// segDuration is the media duration every synthetic segment claims (it
// also sets the nodes' stall timeout: 3 × this without a segment).
const segDuration = 2 * time.Second

// cacheWindow is the nodes' cache window (by program date-time): the
// newest 6 segments of each rendition.
const cacheWindow = 5 * segDuration

// origin makes synthetic sealed segments, as the real origin would sign
// them, from a fixed test key.
type origin struct {
	priv ed25519.PrivateKey
	info node.StreamInfo
	size int
	base time.Time
	rng  *rand.ChaCha8
}

func newOrigin(stream string, renditions, size int) *origin {
	seed := [ed25519.SeedSize]byte{'c', 'a', 'n', 'o', 'p', 'y', '-', 'b', 'e', 'n', 'c', 'h'}
	o := &origin{
		priv: ed25519.NewKeyFromSeed(seed[:]), size: size,
		base: time.Now().UTC().Truncate(time.Second),
		rng:  rand.NewChaCha8([32]byte{7}),
		info: node.StreamInfo{Stream: stream, Broadcast: "bench1", SegmentDuration: segDuration},
	}
	for i := range renditions {
		o.info.Renditions = append(o.info.Renditions, node.Rendition{
			Name: fmt.Sprintf("r%d", i), Width: 1280, Height: 720,
			Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30, Bandwidth: 4_000_000,
		})
	}
	return o
}

func (o *origin) public() ed25519.PublicKey { return o.priv.Public().(ed25519.PublicKey) }

// initSeg returns a sealed init segment of a rendition.
func (o *origin) initSeg(rend string) (proto.Segment, []byte) {
	data := make([]byte, 512)
	_, _ = o.rng.Read(data)
	return proto.Seal(proto.Segment{
		Stream: o.info.Stream, Broadcast: o.info.Broadcast, Rendition: rend, Kind: proto.KindInit,
	}, data, o.priv), data
}

// mediaSeg returns a sealed media segment of random bytes.
func (o *origin) mediaSeg(rend string, seq uint64) (proto.Segment, []byte) {
	data := make([]byte, o.size)
	_, _ = o.rng.Read(data)
	return proto.Seal(proto.Segment{
		Stream: o.info.Stream, Broadcast: o.info.Broadcast, Rendition: rend, Kind: proto.KindMedia,
		Sequence: seq, Start: time.Duration(seq) * segDuration, Duration: segDuration,
		ProgramDateTime: o.base.Add(time.Duration(seq) * segDuration),
	}, data, o.priv), data
}
