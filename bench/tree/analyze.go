package main

import (
	"slices"
	"time"
)

// arrivalKey is one segment at one relay node.
type arrivalKey struct {
	Node int
	Seg  segmentID
}

// arrival is when a relay node got a segment, and from whom.
type arrival struct {
	Parent string    // peer ID the frame came from
	Recv   time.Time // the node's reader got the frame's last byte
	Cached time.Time // the segment was seen in the node's cache; zero if never
}

// observations is everything one run recorded.
type observations struct {
	RootID       string
	NodeIDs      []string                // relay index -> peer ID
	Published    map[segmentID]time.Time // measured segments -> Publish called
	Arrivals     map[arrivalKey]arrival
	TrackerDepth map[string]int // peer ID -> depth in the tracker's snapshot
}

// depthStats is the latency of every (node, segment) at one path depth.
type depthStats struct {
	Depth  int     `json:"depth"`
	Nodes  int     `json:"nodes"`
	Recv   summary `json:"recv"`   // Publish -> frame read at the node
	Cached summary `json:"cached"` // Publish -> segment in the node's cache
	Hop    summary `json:"hop"`    // parent's recv (root: Publish) -> node's recv
}

// latency is the analysed run.
type latency struct {
	Depths []depthStats `json:"depths"`
	Hop    summary      `json:"hop"` // every hop at every depth
	// Missing counts (node, measured segment) pairs that never arrived;
	// Uncached those that arrived but were not seen in the cache.
	Missing  int `json:"missing"`
	Uncached int `json:"uncached"`
	// Unrooted counts arrivals whose parent's arrival is unknown, so that
	// neither depth nor hop could be computed.
	Unrooted int `json:"unrooted"`
	// DepthMismatch counts arrivals whose path depth differs from the
	// tracker's depth for that node (the tree changed during the run).
	DepthMismatch int `json:"depth_mismatch"`
}

// analyze groups arrivals by the depth of the path each segment took.
func analyze(o observations) latency {
	index := make(map[string]int, len(o.NodeIDs))
	for i, id := range o.NodeIDs {
		index[id] = i
	}
	depthOf := func(k arrivalKey) int {
		d := 0
		for range len(o.NodeIDs) + 1 {
			a, ok := o.Arrivals[k]
			if !ok {
				return -1
			}
			d++
			if a.Parent == o.RootID {
				return d
			}
			p, ok := index[a.Parent]
			if !ok {
				return -1
			}
			k = arrivalKey{Node: p, Seg: k.Seg}
		}
		return -1 // a cycle: cannot happen with a real tree
	}
	type bucket struct {
		nodes             map[int]bool
		recv, cached, hop []time.Duration
	}
	buckets := map[int]*bucket{}
	var l latency
	var hops []time.Duration
	for seg, pub := range o.Published {
		for i, id := range o.NodeIDs {
			k := arrivalKey{Node: i, Seg: seg}
			a, ok := o.Arrivals[k]
			if !ok {
				l.Missing++
				continue
			}
			d := depthOf(k)
			if d < 0 {
				l.Unrooted++
				continue
			}
			if td, ok := o.TrackerDepth[id]; ok && td != d {
				l.DepthMismatch++
			}
			from := pub
			if a.Parent != o.RootID {
				from = o.Arrivals[arrivalKey{Node: index[a.Parent], Seg: seg}].Recv
			}
			b := buckets[d]
			if b == nil {
				b = &bucket{nodes: map[int]bool{}}
				buckets[d] = b
			}
			b.nodes[i] = true
			b.recv = append(b.recv, a.Recv.Sub(pub))
			b.hop = append(b.hop, a.Recv.Sub(from))
			hops = append(hops, a.Recv.Sub(from))
			if a.Cached.IsZero() {
				l.Uncached++
			} else {
				b.cached = append(b.cached, a.Cached.Sub(pub))
			}
		}
	}
	depths := make([]int, 0, len(buckets))
	for d := range buckets {
		depths = append(depths, d)
	}
	slices.Sort(depths)
	for _, d := range depths {
		b := buckets[d]
		l.Depths = append(l.Depths, depthStats{
			Depth: d, Nodes: len(b.nodes),
			Recv: summarize(b.recv), Cached: summarize(b.cached), Hop: summarize(b.hop),
		})
	}
	l.Hop = summarize(hops)
	return l
}
