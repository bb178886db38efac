package sfu

import "sync/atomic"

// TrackStats counts a Track's traffic since it was created.
type TrackStats struct {
	PacketsIn uint64 // upstream packets written
	Bitrate   int    // upstream bits/s over the last two seconds (see Track.Bitrate)
	Keyframes uint64 // keyframe starts seen upstream
	Viewers   int    // DownTracks bound now and forwarded this Track (their current layer)
	Switches  uint64 // upstream source changes (Switch or a new upstream SSRC)
	Late      uint64 // packets older than the whole ring, not forwarded
	// Summed over every DownTrack that was ever bound.
	Dropped       uint64 // packets dropped because a viewer's queue was full
	NACKs         uint64 // sequence numbers viewers asked to retransmit
	Retransmitted uint64 // packets retransmitted from the ring
	// NACKsOverBudget counts NACKed packets not resent because the
	// viewer's retransmission budget was spent.
	NACKsOverBudget uint64
	// KeyframeRequests counts requests sent upstream (RequestKeyframe calls,
	// or would-be calls when it is nil); KeyframeRequestsSuppressed counts
	// requests coalesced into another one.
	KeyframeRequests           uint64
	KeyframeRequestsSuppressed uint64
}

// DownTrackStats counts one viewer's traffic since its DownTrack was
// created (across rebinds).
type DownTrackStats struct {
	Sent          uint64 // packets written to the viewer's sender
	Dropped       uint64 // packets dropped because its queue was full
	Skipped       uint64 // packets not sent while waiting for a keyframe
	NACKs         uint64 // sequence numbers it asked to retransmit
	Retransmitted uint64 // packets retransmitted to it
	PLIs          uint64 // keyframe requests it sent (PLI or FIR)
	WriteErrors   uint64 // writes its sender refused with an error
	Started       bool   // it has been sent its first keyframe
	// NACKsOverBudget counts NACKed packets not resent because its
	// retransmission budget was spent (see TrackParams.RetransmitShare).
	NACKsOverBudget uint64
	// Layer is the index (in the DownTrack's Tracks, best first) of the
	// layer it is sent; TargetLayer the one it is switching to (equal when
	// none). LayerSwitches counts the cut-overs. A plain DownTrack has one
	// layer, 0.
	Layer, TargetLayer int
	LayerSwitches      uint64
	// Estimate is its PeerConnection's send-side bandwidth estimate in
	// bits/s, 0 if it has none (yet).
	Estimate int
}

// downCounters are a DownTrack's counters, updated from several goroutines.
type downCounters struct {
	sent, dropped, skipped, nacks, retransmitted, plis, writeErrors atomic.Uint64
	overBudget, layerSwitches                                       atomic.Uint64
	layer, target                                                   atomic.Int64
	started                                                         atomic.Bool
}

func (c *downCounters) snapshot() DownTrackStats {
	return DownTrackStats{
		Sent:          c.sent.Load(),
		Dropped:       c.dropped.Load(),
		Skipped:       c.skipped.Load(),
		NACKs:         c.nacks.Load(),
		Retransmitted: c.retransmitted.Load(),
		PLIs:          c.plis.Load(),
		WriteErrors:   c.writeErrors.Load(),
		Started:       c.started.Load(),

		NACKsOverBudget: c.overBudget.Load(),
		Layer:           int(c.layer.Load()),
		TargetLayer:     int(c.target.Load()),
		LayerSwitches:   c.layerSwitches.Load(),
	}
}
