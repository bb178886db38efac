package sfu

import "time"

// Defaults of a viewer's retransmission budget (TrackParams).
const (
	// DefaultRetransmitShare: a viewer may be resent at most this share of
	// the bytes it was forwarded over the last budgetWindow...
	DefaultRetransmitShare = 0.25
	// DefaultRetransmitBurst: ...plus this many bytes (about ten full
	// packets), so that a short loss burst on a quiet stream is repaired.
	DefaultRetransmitBurst = 12_000
	budgetWindow           = time.Second
	budgetBuckets          = 10
)

// rtxBudget bounds one viewer's retransmissions: over a sliding window,
// retransmitted bytes may not exceed share × forwarded bytes + burst. A
// NACK over budget is ignored (and counted by the caller), so a viewer on
// a bad link cannot make the server send it much more than its stream;
// several hundred such viewers NACKing at once snowballed before. It is not
// safe for concurrent use (the sink's mutex guards it).
type rtxBudget struct {
	share     float64 // < 0: unlimited
	burst     uint64
	sent, rtx meter
}

func newRTXBudget(share float64, burst int) rtxBudget {
	return rtxBudget{
		share: share,
		burst: uint64(max(burst, 0)),
		sent:  newMeter(budgetWindow, budgetBuckets),
		rtx:   newMeter(budgetWindow, budgetBuckets),
	}
}

// forwarded counts n bytes of media queued to the viewer at now.
func (b *rtxBudget) forwarded(now time.Time, n int) { b.sent.add(now, n) }

// take reports whether a retransmission of n bytes fits at now, and if so
// charges it.
func (b *rtxBudget) take(now time.Time, n int) bool {
	if b.share < 0 {
		return true
	}
	allowed := uint64(b.share*float64(b.sent.sum(now))) + b.burst
	if b.rtx.sum(now)+uint64(n) > allowed {
		return false
	}
	b.rtx.add(now, n)
	return true
}

// refund returns n bytes taken at now that were not sent after all.
func (b *rtxBudget) refund(now time.Time, n int) {
	b.rtx.advance(now)
	i := b.rtx.head % int64(len(b.rtx.counts))
	b.rtx.counts[i] -= min(b.rtx.counts[i], uint64(n))
}
