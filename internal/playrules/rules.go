package playrules

import "time"

// Mode is the player's latency mode, as in p2pconfig.js MODES.
type Mode string

// The latency modes.
const (
	Normal Mode = "normal"
	Fast   Mode = "fast"
)

// modeSpec mirrors one entry of p2pconfig.js MODES: syncSegments is hls.js
// liveSyncDurationCount, demandSegments is highDemandTimeWindow, both in
// segment durations.
type modeSpec struct{ syncSegments, demandSegments int }

func specOf(m Mode) modeSpec {
	if m == Fast {
		return modeSpec{syncSegments: 2, demandSegments: 1}
	}
	return modeSpec{syncSegments: 3, demandSegments: 1} // normal, and the default for anything else
}

// Valid reports whether m names a mode ("normal" or "fast").
func (m Mode) Valid() bool { return m == Normal || m == Fast }

// Windows are p2p-media-loader's playback time windows, measured ahead of
// the playhead.
type Windows struct{ HighDemand, HTTP, P2P time.Duration }

// LiveWindows returns the windows the page configures for mode and segment
// duration (p2pconfig.js liveWindows): high demand = demandSegments × D,
// HTTP = latency, P2P = latency + 2 D. Unknown modes count as normal.
func LiveWindows(mode Mode, segment time.Duration) Windows {
	s := specOf(mode)
	latency := time.Duration(s.syncSegments) * segment
	return Windows{
		HighDemand: time.Duration(s.demandSegments) * segment,
		HTTP:       latency,
		P2P:        latency + 2*segment,
	}
}

// TargetLatency is how far behind the live edge hls.js starts playing:
// syncSegments × segment duration.
func TargetLatency(mode Mode, segment time.Duration) time.Duration {
	return time.Duration(specOf(mode).syncSegments) * segment
}

// The page's download slots (p2pconfig.js coreConfig).
const (
	HTTPSlots = 2 // simultaneousHttpDownloads
	P2PSlots  = 3 // simultaneousP2PDownloads
)

// PeerTimeout is p2pNotReceivingBytesTimeoutMs: a peer that sends nothing
// for this long is given up and the segment is chosen again.
const PeerTimeout = time.Second

// Choice is what to do about one segment now.
type Choice int

// The choices. For a segment already downloading (SegmentState.InFlight),
// HTTP while InFlight is P2P means: abort the peer download, switch to HTTP.
const (
	Wait Choice = iota
	HTTP
	P2P
)

func (c Choice) String() string {
	switch c {
	case HTTP:
		return "http"
	case P2P:
		return "p2p"
	default:
		return "wait"
	}
}

// SegmentState is what the player knows about one segment when it decides.
type SegmentState struct {
	StartsIn time.Duration // segment start minus playhead (negative = already needed)
	Loaded   bool
	// InFlight is the source of a download of this segment already under
	// way (Wait: none).
	InFlight Choice
	// PeersHave counts connected peers (relay super-peers included) that
	// announced the segment loaded; only those can serve it.
	PeersHave int
	// PeersLoading counts connected peers that announced it as being
	// fetched over HTTP: p2p-media-loader then treats it as
	// P2P-downloadable (so nobody else seeds it at random) though nobody
	// can serve it yet.
	PeersLoading        int
	Peers               int // connected peers
	HTTPBusy, HTTPSlots int // HTTP downloads in flight / allowed at once
	P2PBusy, P2PSlots   int
}

// Choose decides what to do about one segment now; rnd in [0,1) drives the
// random HTTP seeding (about one viewer in Peers+1).
//
// The rules, from hybrid-loader.ts processQueue and loadRandomThroughHttp
// (windows are inclusive: a segment starting exactly at the window's edge
// is inside, as in isSegmentInTimeWindow):
//   - loaded: nothing to do;
//   - high demand (StartsIn <= HighDemand): HTTP when a slot is free (a
//     peer download in flight is switched to HTTP), else P2P from a peer
//     that has it when a P2P slot is free; an HTTP download in flight goes on;
//   - within the P2P window and some peer has it or is loading it: P2P only,
//     from a peer that has it, when a P2P slot is free;
//   - within the HTTP window, no peer has it or is loading it, at least one
//     peer connected: HTTP with probability 1/(Peers+1), when a slot is
//     free (random seeding, so a swarm without relays still seeds itself).
//
// Simplifications: p2p-media-loader runs the random pass on a timer
// (every 1 s × (1 + U·peers)) and re-draws each time; here one draw per
// viewer and segment stands for it, so callers that re-evaluate a segment
// should pass the same rnd for that segment each time. Preempting a
// lower-priority HTTP download for a high-demand one is not modelled.
func Choose(w Windows, s SegmentState, rnd float64) Choice {
	if s.Loaded {
		return Wait
	}
	httpFree := s.HTTPBusy < s.HTTPSlots
	p2pFree := s.P2PBusy < s.P2PSlots
	if s.StartsIn <= w.HighDemand {
		switch {
		case s.InFlight == HTTP:
			return Wait
		case httpFree:
			return HTTP
		case s.InFlight == P2P:
			return Wait
		case s.PeersHave > 0 && p2pFree:
			return P2P
		}
		return Wait
	}
	if s.InFlight != Wait {
		return Wait
	}
	someone := s.PeersHave > 0 || s.PeersLoading > 0
	if s.StartsIn <= w.P2P && someone {
		if s.PeersHave > 0 && p2pFree {
			return P2P
		}
		return Wait
	}
	if s.StartsIn <= w.HTTP && !someone && s.Peers > 0 && httpFree &&
		rnd*float64(s.Peers+1) < 1 {
		return HTTP
	}
	return Wait
}
