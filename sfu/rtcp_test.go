package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func nack(ssrc uint32, seqs ...uint16) *rtcp.TransportLayerNack {
	return &rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}
}

func TestNACKRetransmitsFromSharedRing(t *testing.T) {
	tt := newTestTrack(t, TrackParams{BufferPackets: 4})
	dtA, ctxA := bind(t, tt.Track, 100)
	dtB, ctxB := bind(t, tt.Track, 200)
	sA := dtA.sinkForTest()

	tt.write(t, 1, 1000, 0, true, stapA(testSPS, testPPS, []byte{0x65, 9}))
	for i := range uint16(7) {
		tt.write(t, 1, 1001+i, 3000*uint32(i+1), true, nonIDR(byte(i)))
	}
	orig := ctxA.w.wait(t, 8)
	ctxB.w.wait(t, 8)

	// Viewer A asks for: one still in the ring (the 7th), one evicted (the
	// 1st: the ring holds 4), one never sent, and one for another SSRC.
	inRing := orig[6].SequenceNumber
	ctxA.r.process(t,
		nack(100, sA.seqStart, inRing, sA.seqStart+100),
		nack(999, inRing),
	)
	got := ctxA.w.wait(t, 9)[8]
	if got.SequenceNumber != inRing || got.Timestamp != orig[6].Timestamp || got.SSRC != 100 ||
		got.PayloadType != testPT || string(got.Payload) != string(orig[6].Payload) {
		t.Errorf("retransmission %v, want a copy of %v", got.Header, orig[6].Header)
	}
	// Push one more packet through A's writer so its counters are settled.
	tt.write(t, 1, 1008, 30000, true, nonIDR(8))
	ctxA.w.wait(t, 10)
	ctxB.w.wait(t, 9)
	waitFor(t, "retransmit count", func() bool { return dtA.Stats().Retransmitted == 1 })
	if st := dtA.Stats(); st.NACKs != 3 || st.Retransmitted != 1 || st.Sent != 9 {
		t.Errorf("A stats %+v, want 3 NACKs, 1 retransmitted, 9 sent", st)
	}
	if st := dtB.Stats(); st.NACKs != 0 || st.Retransmitted != 0 {
		t.Errorf("B stats %+v, want no NACK activity", st)
	}
	if n := len(ctxB.w.written()); n != 9 {
		t.Errorf("B got %d packets, want 9 (no retransmission)", n)
	}
	if st := tt.Stats(); st.NACKs != 3 || st.Retransmitted != 1 {
		t.Errorf("track stats %+v", st)
	}
}

func TestPLICoalescedIntoOneUpstreamRequest(t *testing.T) {
	tt := newTestTrack(t, TrackParams{KeyframeInterval: time.Second})
	dtA, ctxA := bind(t, tt.Track, 100)
	dtB, ctxB := bind(t, tt.Track, 200)
	if n := tt.requests.Load(); n != 1 {
		t.Fatalf("requests after two joins = %d, want 1", n)
	}
	tt.clock.Advance(2 * time.Second)

	pli := func(ssrc uint32) *rtcp.PictureLossIndication {
		return &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: ssrc}
	}
	ctxA.r.process(t, pli(100))
	ctxA.r.process(t, pli(100), pli(100))
	ctxB.r.process(t, &rtcp.FullIntraRequest{SenderSSRC: 1, FIR: []rtcp.FIREntry{{SSRC: 200, SequenceNumber: 1}}})
	ctxB.r.process(t, pli(999)) // not this viewer's SSRC: ignored
	if n := tt.requests.Load(); n != 2 {
		t.Fatalf("requests after 4 PLI/FIR inside one interval = %d, want 2", n)
	}
	if a, b := dtA.Stats().PLIs, dtB.Stats().PLIs; a != 3 || b != 1 {
		t.Errorf("PLIs counted A=%d B=%d, want 3 and 1", a, b)
	}
	// The suppressed requests are remembered: once the interval has passed
	// the next packet sends one, unless a keyframe came first.
	tt.clock.Advance(999 * time.Millisecond)
	tt.write(t, 1, 1, 100, true, nonIDR(1))
	if n := tt.requests.Load(); n != 2 {
		t.Fatalf("pending request sent early: %d", n)
	}
	tt.clock.Advance(time.Millisecond)
	tt.write(t, 1, 2, 200, true, nonIDR(2))
	if n := tt.requests.Load(); n != 3 {
		t.Fatalf("pending request not sent after the interval: %d", n)
	}
	ctxA.r.process(t, pli(100)) // suppressed, pending
	tt.write(t, 1, 3, 300, true, stapA(testSPS, testPPS))
	tt.clock.Advance(5 * time.Second)
	tt.write(t, 1, 4, 400, true, nonIDR(3))
	if n := tt.requests.Load(); n != 3 {
		t.Errorf("request sent although a keyframe satisfied it: %d", n)
	}
	st := tt.Stats()
	if st.KeyframeRequests != 3 || st.KeyframeRequestsSuppressed != 5 {
		t.Errorf("track stats %+v, want 3 sent, 5 suppressed", st)
	}
}
