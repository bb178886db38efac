package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/tracker"
)

// relay is one relay node: a member of the relay tree and an always-on
// super-peer in the browsers' swarm.
type relay struct {
	up          float64 // upload, bits/s
	maxChildren int
	children    int
	depth       int   // hops from the origin; -1: detached (never receives)
	lag         int64 // ns from seal to having the segment; -1 when detached
	serveUp     float64
	maxBrowsers int
	browsers    int
	slots       []int64 // upload slots: when each is free again
}

const originID = "origin"

func relayID(i int) string { return "relay-" + strconv.Itoa(i) }

// buildTree places the relays with the real tracker.Tree (joins only, in
// order: each takes the shallowest free slot; every relay declares
// Config.RelayChildren, as a node declares node.max_children) and computes when each one
// has a segment: every hop costs RTT plus size / min(parent's upload
// shared among its children, the child's download).
func buildTree(c Config, r *rand.Rand) ([]relay, error) {
	segBits := c.TreeRate * c.Segment.Seconds() // all renditions travel together
	rs := make([]relay, c.Relays)
	t := tracker.NewTree("sim")
	if err := t.SetRoot(originID, c.OriginChildren); err != nil {
		return nil, fmt.Errorf("sim: tree root: %w", err)
	}
	for i := range rs {
		up := c.RelayUpload.Sample(r)
		mc := c.RelayChildren
		rs[i] = relay{up: up, maxChildren: mc, depth: -1, lag: -1,
			maxBrowsers: config.Node{UploadMbps: up / 1e6, MaxBrowsers: c.RelayMaxBrowsers}.MaxBrowsersOrDerived()}
		if err := t.Join(relayID(i), mc, ""); err != nil {
			return nil, fmt.Errorf("sim: tree join: %w", err)
		}
	}
	parent := make([]int, len(rs)) // -1: the origin; -2: detached
	kids := map[int][]int{}        // parent index (-1 origin) → children, in join order
	for i := range rs {
		l, ok := t.Link(relayID(i))
		switch {
		case !ok || l.Depth < 0 || l.Parent == "":
			parent[i] = -2
		case l.Parent == originID:
			parent[i] = -1
		default:
			p, err := strconv.Atoi(l.Parent[len("relay-"):])
			if err != nil {
				return nil, fmt.Errorf("sim: tree parent %q: %w", l.Parent, err)
			}
			parent[i] = p
		}
		if parent[i] != -2 {
			rs[i].depth = l.Depth
			kids[parent[i]] = append(kids[parent[i]], i)
		}
	}
	for p, ks := range kids {
		if p >= 0 {
			rs[p].children = len(ks)
		}
	}
	// Lags, parents before children: walk from the origin breadth first.
	level := []int{-1}
	for len(level) > 0 {
		var next []int
		for _, p := range level {
			share, base := c.OriginUpload, int64(0)
			if p >= 0 {
				share, base = rs[p].up, rs[p].lag
			}
			share /= float64(max(1, len(kids[p])))
			for _, ch := range kids[p] {
				rate := math.Min(share, rs[ch].up)
				rs[ch].lag = base + int64(c.RTT) + secs(segBits/rate)
				next = append(next, ch)
			}
		}
		level = next
	}
	for i := range rs {
		rr := &rs[i]
		rr.serveUp = math.Max(rr.up-float64(rr.children)*c.TreeRate, rr.up*0.05)
		// Relays serve every rendition from the same slots: size them for
		// the audience's mean rate (Bitrate without a mix).
		rr.slots = make([]int64, slotsFor(rr.serveUp, c.meanRate(), 64))
	}
	return rs, nil
}

// slotsFor is how many transfers a sender runs at once: each at least four
// times the stream rate when the upload allows, between 1 and limit.
func slotsFor(up, rate float64, limit int) int {
	return int(math.Max(1, math.Min(float64(limit), math.Floor(up/(4*rate)))))
}

// secs converts seconds to ns.
func secs(s float64) int64 { return int64(math.Round(s * 1e9)) }
