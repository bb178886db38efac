package main

import (
	"fmt"
	"log/slog"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/origin"
	"github.com/canopylive/canopy/proto"
)

// rootFeed hands the origin's sealed segments to the relay tree's root node.
type rootFeed struct {
	n   *node.Node
	log *slog.Logger
}

func (f rootFeed) Segment(d origin.Description, rec proto.Segment, data []byte) {
	if err := f.n.Publish(streamInfo(d), rec, data); err != nil {
		f.log.Warn("root node refused a segment", "stream", rec.Stream, "sequence", rec.Sequence, "err", err)
	}
}

func (f rootFeed) Ended(d origin.Description) {
	if err := f.n.Announce(streamInfo(d)); err != nil {
		f.log.Warn("root node refused the end of a broadcast", "stream", d.Stream, "err", err)
	}
}

func streamInfo(d origin.Description) node.StreamInfo {
	info := node.StreamInfo{Stream: d.Stream, Broadcast: d.Broadcast, Ended: d.Ended, SegmentDuration: d.SegmentDuration}
	for _, r := range d.Renditions {
		info.Renditions = append(info.Renditions, node.Rendition{Name: r.Name, Width: r.Width, Height: r.Height,
			Codecs: r.Codecs, FrameRate: r.FrameRate, Bandwidth: r.Bandwidth})
	}
	return info
}

// peerAddrs lists a host's addresses with its /p2p/ ID, as nodes and
// trackers are configured with.
func peerAddrs(h host.Host) []string {
	info := peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
	mas, err := peer.AddrInfoToP2pAddrs(&info)
	if err != nil {
		return nil
	}
	out := make([]string, len(mas))
	for i, m := range mas {
		out[i] = m.String()
	}
	return out
}

// parsePeers turns "…/p2p/<id>" multiaddrs into peers, merging addresses of
// the same peer and keeping the order of first appearance.
func parsePeers(addrs []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	index := map[peer.ID]int{}
	for _, s := range addrs {
		ma, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("tracker address %q: %w", s, err)
		}
		info, err := peer.AddrInfoFromP2pAddr(ma)
		if err != nil {
			return nil, fmt.Errorf("tracker address %q must end in /p2p/<peer ID>: %w", s, err)
		}
		if i, ok := index[info.ID]; ok {
			out[i].Addrs = append(out[i].Addrs, info.Addrs...)
			continue
		}
		index[info.ID] = len(out)
		out = append(out, *info)
	}
	return out, nil
}
