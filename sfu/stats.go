package sfu

import "sync/atomic"

// TrackStats counts a Track's traffic since it was created.
type TrackStats struct {
	PacketsIn uint64 // upstream packets written
	Keyframes uint64 // keyframe starts seen upstream
	Viewers   int    // DownTracks bound now
	Switches  uint64 // upstream source changes (Switch or a new upstream SSRC)
	Late      uint64 // packets older than the whole ring, not forwarded
	// Summed over every DownTrack that was ever bound.
	Dropped       uint64 // packets dropped because a viewer's queue was full
	NACKs         uint64 // sequence numbers viewers asked to retransmit
	Retransmitted uint64 // packets retransmitted from the ring
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
}

// downCounters are a DownTrack's counters, updated from several goroutines.
type downCounters struct {
	sent, dropped, skipped, nacks, retransmitted, plis, writeErrors atomic.Uint64
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
	}
}
