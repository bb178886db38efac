package loadgen

import (
	"time"

	"github.com/canopylive/canopy/internal/playrules"
)

// maxStallLog bounds the stalls one viewer records in detail.
const maxStallLog = 32

// StallEvent describes one stall: what the viewer knew and did about the
// segment it waited for.
type StallEvent struct {
	At  time.Time     `json:"at"`     // first tick that saw the stall
	Dur time.Duration `json:"dur_ns"` // until the tick that played again; 0: never
	Seq uint64        `json:"seq"`
	// Listed: the playlist had listed the segment when the stall began.
	Listed bool `json:"listed"`
	// Lead is the segment's start minus the playhead when it was listed:
	// the time the viewer had to fetch it.
	Lead time.Duration `json:"lead_ns"`
	// InFlight is the download under way when the stall began (wait,
	// http, p2p); PeersHave the connected peers that announced it.
	InFlight  string `json:"in_flight"`
	PeersHave int    `json:"peers_have"`
	HTTPBusy  int    `json:"http_busy"`
	// From is the source that ended the stall ("" while it lasts).
	From string `json:"from,omitempty"`
}

// String names a Source.
func (s Source) String() string {
	switch s {
	case FromOrigin:
		return "origin"
	case FromRelayHTTP:
		return "relay-http"
	case FromRelayP2P:
		return "relay-p2p"
	case FromViewer:
		return "viewer"
	}
	return "?"
}

// noteStall records stall starts and ends around one playback advance
// (v.mu held): was is whether the playhead was stalled before, at seq.
func (v *Viewer) noteStall(now time.Time, was bool, seq uint64) {
	switch {
	case !was && v.pb.stalled:
		if len(v.stats.StallLog) >= maxStallLog {
			return
		}
		e := StallEvent{At: now, Seq: v.pb.seq, InFlight: playrules.Wait.String(), HTTPBusy: v.httpBusy}
		if s, ok := v.segs[v.pb.seq]; ok {
			e.Listed, e.Lead, e.InFlight = true, s.lead, s.inflight.String()
			for _, p := range v.peers {
				if p.have[int64(s.seq)] {
					e.PeersHave++
				}
			}
		}
		v.stats.StallLog = append(v.stats.StallLog, e)
		v.stalling = true
	case was && !v.pb.stalled && v.stalling:
		v.stalling = false
		e := &v.stats.StallLog[len(v.stats.StallLog)-1]
		e.Dur = now.Sub(e.At)
		if s, ok := v.segs[seq]; ok && s.loaded {
			e.From = s.src.String()
		}
	}
}
