package sfu

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// fakeEstimator is a settable BandwidthEstimator.
type fakeEstimator struct{ bps atomic.Int64 }

func (f *fakeEstimator) GetTargetBitrate() int { return int(f.bps.Load()) }

func TestMeterBitrate(t *testing.T) {
	clock := newFakeClock()
	m := newMeter(2*time.Second, 8)
	if got := m.bitrate(clock.Now()); got != 0 {
		t.Fatalf("empty meter %d", got)
	}
	// 1250 bytes every 10 ms = 1 Mbit/s, for 5 s.
	for range 500 {
		m.add(clock.Now(), 1250)
		clock.Advance(10 * time.Millisecond)
	}
	if got := m.bitrate(clock.Now()); got < 900_000 || got > 1_100_000 {
		t.Errorf("bitrate %d, want about 1 Mbit/s", got)
	}
	clock.Advance(3 * time.Second) // silence longer than the window
	if got := m.bitrate(clock.Now()); got != 0 {
		t.Errorf("bitrate after silence %d, want 0", got)
	}
}

func TestRTXBudget(t *testing.T) {
	clock := newFakeClock()
	b := newRTXBudget(0.25, 1000)
	// Nothing forwarded: only the burst.
	if !b.take(clock.Now(), 600) || b.take(clock.Now(), 600) {
		t.Fatal("burst of 1000 bytes should allow one 600-byte packet, not two")
	}
	// Forward 100 kB over a second: 25 kB more may be resent.
	for range 100 {
		b.forwarded(clock.Now(), 1000)
		clock.Advance(10 * time.Millisecond)
	}
	n := 0
	for b.take(clock.Now(), 1000) {
		n++
	}
	// 0.25 × (the part of 100 kB still in the window) + 1000 - 600 already taken.
	if n < 20 || n > 26 {
		t.Errorf("%d retransmissions of 1000 bytes allowed, want about 25", n)
	}
	// A refund makes room for one more.
	b.refund(clock.Now(), 1000)
	if !b.take(clock.Now(), 1000) {
		t.Error("refund did not free the budget")
	}
	// The window slides: two seconds later, with nothing forwarded, only
	// the burst is left again.
	clock.Advance(2 * time.Second)
	if !b.take(clock.Now(), 1000) || b.take(clock.Now(), 1) {
		t.Error("after the window the budget is not the burst alone")
	}
	if u := newRTXBudget(-1, 0); !u.take(clock.Now(), 1<<20) {
		t.Error("a negative share must not limit")
	}
}

func TestChooser(t *testing.T) {
	pol, err := LayerPolicy{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	rates := []int{2_500_000, 400_000}
	type step struct {
		after time.Duration // since the previous step
		est   int
		want  int
	}
	tests := []struct {
		name  string
		rates []int
		steps []step
	}{
		{"starts where the first estimate allows: top", rates, []step{{0, 4_000_000, 0}}},
		{"starts where the first estimate allows: low", rates, []step{{0, 1_000_000, 1}}},
		{"no estimate keeps the start layer", rates, []step{{0, 0, 1}, {10 * time.Second, 0, 1}}},
		{"down promptly, after DownAfter", rates, []step{
			{0, 4_000_000, 0},
			{time.Second, 1_000_000, 0},
			{400 * time.Millisecond, 1_000_000, 0},
			{100 * time.Millisecond, 1_000_000, 1},
		}},
		{"a short dip does not switch", rates, []step{
			{0, 4_000_000, 0},
			{time.Second, 1_000_000, 0},
			{300 * time.Millisecond, 4_000_000, 0},
			{300 * time.Millisecond, 1_000_000, 0},
			{300 * time.Millisecond, 1_000_000, 0},
		}},
		{"up only after UpAfter and MinDwell", rates, []step{
			{0, 1_000_000, 1},
			{time.Second, 3_200_000, 1},     // fits from here
			{3 * time.Second, 3_200_000, 1}, // UpAfter passed, MinDwell (5 s from start) not
			{time.Second, 3_200_000, 0},
		}},
		{"headroom: the top needs 1.25 × its bitrate", rates, []step{
			{0, 3_000_000, 1},
			{10 * time.Second, 3_000_000, 1},
			{10 * time.Second, 3_000_000, 1},
		}},
		{"failed probes back off", rates, []step{
			{0, 1_000_000, 1},
			{5 * time.Second, 3_200_000, 1},
			{3 * time.Second, 3_200_000, 0}, // up (probe)
			{2 * time.Second, 1_000_000, 0},
			{500 * time.Millisecond, 1_000_000, 1}, // down inside the probe window: UpAfter 6 s
			{5 * time.Second, 3_200_000, 1},        // fits from here, MinDwell passes
			{5 * time.Second, 3_200_000, 1},        // 5 s < 6 s
			{time.Second, 3_200_000, 0},            // 6 s: up again
			{time.Second, 1_000_000, 0},
			{500 * time.Millisecond, 1_000_000, 1}, // failed again: UpAfter 12 s
			{5 * time.Second, 3_200_000, 1},
			{11 * time.Second, 3_200_000, 1},
			{time.Second, 3_200_000, 0},
			{10 * time.Second, 3_200_000, 0}, // held the probe window: UpAfter back to 3 s
			{time.Second, 1_000_000, 0},
			{500 * time.Millisecond, 1_000_000, 1},
			{5 * time.Second, 3_200_000, 1},
			{3 * time.Second, 3_200_000, 0},
		}},
		{"three layers: down skips to the one that fits, up one at a time", []int{2_500_000, 1_000_000, 300_000}, []step{
			{0, 5_000_000, 0},
			{time.Second, 500_000, 0},
			{500 * time.Millisecond, 500_000, 2},
			{10 * time.Second, 5_000_000, 2},
			{3 * time.Second, 5_000_000, 1},
			{3 * time.Second, 5_000_000, 1}, // fits from here (the switch restarted the count)
			{3 * time.Second, 5_000_000, 0},
		}},
		{"a dead layer is never chosen", []int{0, 400_000}, []step{
			{0, 10_000_000, 1},
			{20 * time.Second, 10_000_000, 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			c := newChooser(pol, len(tc.rates)-1)
			for i, st := range tc.steps {
				clock.Advance(st.after)
				if got := c.decide(clock.Now(), st.est, tc.rates); got != st.want {
					t.Fatalf("step %d (%+v): layer %d, want %d", i, st, got, st.want)
				}
			}
		})
	}
	t.Run("leaves a layer that stopped", func(t *testing.T) {
		clock := newFakeClock()
		c := newChooser(pol, 1)
		r := []int{2_500_000, 400_000}
		if got := c.decide(clock.Now(), 4_000_000, r); got != 0 {
			t.Fatalf("start %d", got)
		}
		r[0] = 0
		clock.Advance(time.Second)
		if got := c.decide(clock.Now(), 4_000_000, r); got != 1 {
			t.Errorf("on a dead layer: %d, want 1 at once", got)
		}
	})
	if _, err := (LayerPolicy{MinDwell: -1}).withDefaults(); err == nil {
		t.Error("negative policy accepted")
	}
}

// twoLayers returns a top and a low video Track of one stream.
func twoLayers(t *testing.T, now func() time.Time, requests *[2]atomic.Int64) (top, low *Track) {
	t.Helper()
	mk := func(id string, n *atomic.Int64) *Track {
		tr, err := NewTrack(TrackParams{ID: id, StreamID: "demo", Codec: h264Cap, Now: now,
			RequestKeyframe: func() { n.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.Close() })
		return tr
	}
	return mk("video", &requests[0]), mk("video-low", &requests[1])
}

func TestLayeredDownTrackCutsOverAtKeyframe(t *testing.T) {
	clock := newFakeClock()
	var requests [2]atomic.Int64
	top, low := twoLayers(t, clock.Now, &requests)
	var switches atomic.Int64
	dt, err := NewLayeredDownTrack(LayeredParams{Tracks: []*Track{top, low}, Estimator: &fakeEstimator{},
		Policy: LayerPolicy{Interval: time.Hour}, OnSwitch: func(from, to int) { switches.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := newFakeContext(t, "ctx", 77)
	if _, err := dt.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dt.Close() })
	if dt.ID() != "video" || dt.Kind() != webrtc.RTPCodecTypeVideo {
		t.Errorf("ID %q kind %v", dt.ID(), dt.Kind())
	}
	if st := dt.Stats(); st.Layer != 1 || requests[1].Load() != 1 || requests[0].Load() != 0 {
		t.Fatalf("start: layer %d, keyframe requests top %d low %d; want layer 1 and one request to it",
			st.Layer, requests[0].Load(), requests[1].Load())
	}
	s := dt.sinkForTest()
	s0 := s.seqStart
	write := func(tr *Track, ssrc uint32, seq uint16, ts uint32, marker bool, payload []byte) {
		t.Helper()
		if err := tr.WriteRTP(pkt(ssrc, seq, ts, marker, payload)); err != nil {
			t.Fatal(err)
		}
	}
	// Low layer: a keyframe and a P frame reach the viewer; the top's do not.
	write(low, 2, 500, 1000, true, stapA(testSPS, testPPS, []byte{0x65, 1}))
	write(top, 1, 9000, 77000, true, stapA(testSPS, testPPS, []byte{0x65, 2}))
	write(low, 2, 501, 4000, true, nonIDR(1))
	ctx.w.wait(t, 2)

	// Ask for the top: a keyframe request goes to it; its P frames are not
	// sent, the low layer goes on until the top's keyframe.
	if !s.switchTo(0) {
		t.Fatal("switchTo(0) not pending")
	}
	write(top, 1, 9001, 80000, true, nonIDR(2))
	write(low, 2, 502, 7000, true, nonIDR(3))
	clock.Advance(40 * time.Millisecond)
	write(top, 1, 9002, 83000, false, stapA(testSPS, testPPS))
	write(top, 1, 9003, 83000, true, fuA(true, true, 5, 4))
	write(low, 2, 503, 10000, true, nonIDR(5)) // after the cut: not sent
	write(top, 1, 9004, 86000, true, nonIDR(6))

	got := summarize(ctx.w, 6, t)
	for i, g := range got {
		if g.seq != s0+uint16(i) {
			t.Errorf("packet %d seq %d, want %d (continuous)", i, g.seq, s0+uint16(i))
		}
	}
	wantPayloads := [][]byte{stapA(testSPS, testPPS, []byte{0x65, 1}), nonIDR(1), nonIDR(3),
		stapA(testSPS, testPPS), fuA(true, true, 5, 4), nonIDR(6)}
	for i, w := range wantPayloads {
		if string(got[i].payload) != string(w) {
			t.Errorf("packet %d payload % x, want % x", i, got[i].payload, w)
		}
	}
	// Timestamps: the low layer's run, then +40 ms of wall clock (3600
	// ticks) at the cut, then the top's own spacing.
	ts0 := got[0].ts
	if got[1].ts != ts0+3000 || got[2].ts != ts0+6000 || got[3].ts != ts0+6000+3600 ||
		got[4].ts != got[3].ts || got[5].ts != got[3].ts+3000 {
		t.Errorf("timestamps %d %d %d %d %d %d", got[0].ts, got[1].ts, got[2].ts, got[3].ts, got[4].ts, got[5].ts)
	}
	waitFor(t, "stats", func() bool { return dt.Stats().Sent == 6 })
	if st := dt.Stats(); st.Layer != 0 || st.LayerSwitches != 1 || switches.Load() != 1 {
		t.Errorf("stats %+v, OnSwitch %d; want layer 0, one switch", st, switches.Load())
	}
	if top.Stats().Viewers != 1 || low.Stats().Viewers != 0 {
		t.Errorf("viewers top %d low %d, want 1 and 0", top.Stats().Viewers, low.Stats().Viewers)
	}
	// NACKs map back to the right layer's ring: one from each side of
	// the cut.
	ctx.r.process(t, nack(77, s0+1, s0+4))
	more := ctx.w.wait(t, 8)[6:]
	if string(more[0].Payload) != string(nonIDR(1)) || more[0].SequenceNumber != s0+1 ||
		string(more[1].Payload) != string(fuA(true, true, 5, 4)) || more[1].SequenceNumber != s0+4 {
		t.Errorf("retransmitted %v % x and %v % x", more[0].Header, more[0].Payload, more[1].Header, more[1].Payload)
	}
}

func TestLayerChoiceFollowsEstimate(t *testing.T) {
	// The chooser's goroutine with a fake estimator: the viewer starts on
	// the layer the first estimate allows and goes down when it falls.
	var requests [2]atomic.Int64
	// Real clock for the goroutine; bitrates measured from real writes.
	top, low := twoLayers(t, time.Now, &requests)
	est := &fakeEstimator{}
	est.bps.Store(10_000_000)
	dt, err := NewLayeredDownTrack(LayeredParams{Tracks: []*Track{top, low}, Estimator: est,
		Policy: LayerPolicy{Interval: 5 * time.Millisecond, DownAfter: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := newFakeContext(t, "ctx", 5)
	if _, err := dt.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dt.Close() })
	big := make([]byte, 1200)
	var seq uint16
	feed := func() {
		// ~1 Mbit/s on top over the window, far less on low: a keyframe
		// start on both each round.
		seq++
		_ = top.WriteRTP(pkt(1, seq, uint32(seq)*3000, true, stapA(testSPS, testPPS, append([]byte{0x65}, big...))))
		_ = low.WriteRTP(pkt(2, seq, uint32(seq)*3000, true, stapA(testSPS, testPPS, []byte{0x65, 1})))
	}
	waitFor(t, "top layer", func() bool { feed(); return dt.Stats().Layer == 0 })
	est.bps.Store(50_000)
	waitFor(t, "low layer", func() bool { feed(); return dt.Stats().Layer == 1 })
	if st := dt.Stats(); st.Estimate != 50_000 || st.LayerSwitches != 2 {
		t.Errorf("stats %+v, want estimate 50000 and 2 switches", st)
	}
}

func TestNACKsOverBudgetIgnored(t *testing.T) {
	tt := newTestTrack(t, TrackParams{RetransmitShare: 0.25, RetransmitBurst: 1})
	clock := tt.clock
	dt, ctx := bind(t, tt.Track, 100)
	s := dt.sinkForTest()
	body := make([]byte, 988) // 1000 bytes with the header
	tt.write(t, 1, 1, 0, true, stapA(testSPS, testPPS, append([]byte{0x65}, body[:983]...)))
	for i := range uint16(7) {
		tt.write(t, 1, 2+i, 3000*uint32(i+1), true, append([]byte{0x41}, body[1:]...))
	}
	ctx.w.wait(t, 8)
	// 8000 bytes forwarded: 2000 (+1) may be resent: two of these four.
	ctx.r.process(t, nack(100, s.seqStart+1, s.seqStart+2, s.seqStart+3, s.seqStart+4))
	ctx.w.wait(t, 10)
	tt.write(t, 1, 9, 30000, true, nonIDR(9))
	ctx.w.wait(t, 11)
	waitFor(t, "retransmit count", func() bool { return dt.Stats().Retransmitted == 2 })
	if st := dt.Stats(); st.NACKs != 4 || st.NACKsOverBudget != 2 {
		t.Errorf("stats %+v, want 4 NACKs, 2 over budget", st)
	}
	if st := tt.Stats(); st.NACKsOverBudget != 2 {
		t.Errorf("track stats %+v", st)
	}
	// A second later the window has moved on: nothing forwarded since,
	// so nothing more may be resent.
	clock.Advance(2 * time.Second)
	ctx.r.process(t, nack(100, s.seqStart+5))
	if st := dt.Stats(); st.NACKsOverBudget != 3 {
		t.Errorf("over budget %d, want 3", st.NACKsOverBudget)
	}
}
