package sfu

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestNewTrackParams(t *testing.T) {
	vp8 := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	tests := []struct {
		name string
		p    TrackParams
		ok   bool
	}{
		{"video", TrackParams{ID: "video", StreamID: "s", Codec: h264Cap}, true},
		{"audio", TrackParams{ID: "audio", StreamID: "s", Codec: opusCap}, true},
		{"no id", TrackParams{StreamID: "s", Codec: h264Cap}, false},
		{"no stream", TrackParams{ID: "video", Codec: h264Cap}, false},
		{"no codec", TrackParams{ID: "video", StreamID: "s"}, false},
		{"vp8 unsupported", TrackParams{ID: "video", StreamID: "s", Codec: vp8}, false},
		{"no clock rate", TrackParams{ID: "video", StreamID: "s", Codec: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}}, false},
		{"ring too big", TrackParams{ID: "video", StreamID: "s", Codec: h264Cap, BufferPackets: MaxBufferPackets + 1}, false},
		{"negative queue", TrackParams{ID: "video", StreamID: "s", Codec: h264Cap, QueueSize: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := NewTrack(tc.p)
			if !tc.ok {
				if !errors.Is(err, ErrParams) {
					t.Fatalf("err = %v, want ErrParams", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			if tr.Kind() != kindOf(tc.p.Codec) || tr.Codec().MimeType != tc.p.Codec.MimeType {
				t.Errorf("Kind/Codec = %v/%v", tr.Kind(), tr.Codec())
			}
		})
	}
	v, _ := NewTrack(TrackParams{ID: "video", StreamID: "s", Codec: h264Cap})
	a, _ := NewTrack(TrackParams{ID: "audio", StreamID: "s", Codec: opusCap})
	if len(v.ring.slots) != DefaultVideoBufferPackets || len(a.ring.slots) != DefaultAudioBufferPackets ||
		v.p.QueueSize != DefaultQueueSize || v.p.KeyframeInterval != DefaultKeyframeInterval {
		t.Error("defaults not applied")
	}
	_ = v.Close()
	_ = a.Close()
}

type testTrack struct {
	*Track
	clock    *fakeClock
	requests atomic.Int64
}

func newTestTrack(t *testing.T, p TrackParams) *testTrack {
	t.Helper()
	tt := &testTrack{clock: newFakeClock()}
	if p.ID == "" {
		p.ID = "video"
	}
	if p.StreamID == "" {
		p.StreamID = "demo"
	}
	if p.Codec.MimeType == "" {
		p.Codec = h264Cap
	}
	p.Now = tt.clock.Now
	p.RequestKeyframe = func() { tt.requests.Add(1) }
	tr, err := NewTrack(p)
	if err != nil {
		t.Fatal(err)
	}
	tt.Track = tr
	t.Cleanup(func() { _ = tr.Close() })
	return tt
}

func (tt *testTrack) write(t *testing.T, ssrc uint32, seq uint16, ts uint32, marker bool, payload []byte) {
	t.Helper()
	if err := tt.WriteRTP(pkt(ssrc, seq, ts, marker, payload)); err != nil {
		t.Fatal(err)
	}
}

// checkOut asserts the written packets' sequence numbers, timestamps and
// the viewer's SSRC and payload type.
func checkOut(t *testing.T, got []rtpLike, seqs []uint16, tss []uint32, ssrc uint32, pt uint8) {
	t.Helper()
	if len(got) != len(seqs) {
		t.Fatalf("got %d packets, want %d", len(got), len(seqs))
	}
	for i, p := range got {
		if p.seq != seqs[i] || p.ts != tss[i] || p.ssrc != ssrc || p.pt != pt {
			t.Errorf("packet %d: seq %d ts %d ssrc %d pt %d, want seq %d ts %d ssrc %d pt %d",
				i, p.seq, p.ts, p.ssrc, p.pt, seqs[i], tss[i], ssrc, pt)
		}
	}
}

type rtpLike struct {
	seq     uint16
	ts      uint32
	ssrc    uint32
	pt      uint8
	marker  bool
	payload []byte
}

func summarize(w *fakeWriter, n int, t *testing.T) []rtpLike {
	t.Helper()
	var out []rtpLike
	for _, p := range w.wait(t, n) {
		out = append(out, rtpLike{p.SequenceNumber, p.Timestamp, p.SSRC, p.PayloadType, p.Marker, p.Payload})
	}
	return out
}

func TestDownTrackStartsAtKeyframeAndRewrites(t *testing.T) {
	tt := newTestTrack(t, TrackParams{})
	dt, ctx := bind(t, tt.Track, 4242)
	if n := tt.requests.Load(); n != 1 {
		t.Fatalf("keyframe requests after join = %d, want 1", n)
	}
	s := dt.sinkForTest()
	s0, ts0 := s.seqStart, s.tsStart

	const up = 0xdead
	tt.write(t, up, 100, 1000, true, nonIDR(1))                // before any keyframe: skipped
	tt.write(t, up, 101, 3000, false, stapA(testSPS, testPPS)) // key start
	tt.write(t, up, 102, 3000, false, fuA(true, false, 5, 1))
	tt.write(t, up, 103, 3000, false, fuA(false, false, 5, 2))
	tt.write(t, up, 104, 3000, true, fuA(false, true, 5, 3))
	tt.write(t, up, 105, 6000, true, nonIDR(2))
	tt.write(t, up, 107, 9000, true, nonIDR(3)) // 106 lost upstream: the gap is kept

	got := summarize(ctx.w, 6, t)
	checkOut(t, got,
		[]uint16{s0, s0 + 1, s0 + 2, s0 + 3, s0 + 4, s0 + 6},
		[]uint32{ts0, ts0, ts0, ts0, ts0 + 3000, ts0 + 6000}, 4242, testPT)
	if string(got[0].payload) != string(stapA(testSPS, testPPS)) {
		t.Errorf("first packet % x, want the SPS/PPS STAP-A", got[0].payload)
	}
	if !got[3].marker || got[2].marker {
		t.Error("marker bits not kept")
	}
	// Stats are updated after the write returns; one more packet through
	// the writer orders them.
	tt.write(t, up, 108, 12000, true, nonIDR(4))
	ctx.w.wait(t, 7)
	waitFor(t, "sent count", func() bool { return dt.Stats().Sent == 7 })
	st := dt.Stats()
	if !st.Started || st.Skipped != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
	ts := tt.Stats()
	if ts.PacketsIn != 8 || ts.Viewers != 1 || ts.Keyframes != 1 || ts.KeyframeRequests != 1 {
		t.Errorf("track stats %+v", ts)
	}
}

func TestDownTrackSwitchKeepsSequenceAndTimestamp(t *testing.T) {
	for _, explicit := range []bool{true, false} {
		name := "implicit ssrc change"
		if explicit {
			name = "explicit Switch"
		}
		t.Run(name, func(t *testing.T) {
			tt := newTestTrack(t, TrackParams{})
			dt, ctx := bind(t, tt.Track, 7)
			s := dt.sinkForTest()
			s0, ts0 := s.seqStart, s.tsStart

			tt.write(t, 1, 60000, 500, false, stapA(testSPS, testPPS))
			tt.write(t, 1, 60001, 500, true, fuA(true, true, 5, 1))
			tt.write(t, 1, 60002, 3500, true, nonIDR(1))
			ctx.w.wait(t, 3)

			tt.clock.Advance(250 * time.Millisecond)
			newSSRC := uint32(1)
			if explicit {
				tt.Switch()
			} else {
				newSSRC = 2
			}
			// The new parent's numbering is unrelated to the old one.
			tt.write(t, newSSRC, 17, 900000, true, nonIDR(2)) // not a keyframe: waits
			if !explicit {
				// the switch happened on that packet
				if got := tt.requests.Load(); got != 2 {
					t.Fatalf("keyframe requests = %d, want 2 (join + switch)", got)
				}
			}
			tt.write(t, newSSRC, 18, 903000, false, stapA(testSPS, testPPS))
			tt.write(t, newSSRC, 19, 903000, true, fuA(true, true, 5, 2))
			tt.write(t, newSSRC, 20, 906000, true, nonIDR(3))

			got := summarize(ctx.w, 6, t)
			gap := uint32(250 * 90) // 250 ms at 90 kHz
			checkOut(t, got,
				[]uint16{s0, s0 + 1, s0 + 2, s0 + 3, s0 + 4, s0 + 5},
				[]uint32{ts0, ts0, ts0 + 3000, ts0 + 3000 + gap, ts0 + 3000 + gap, ts0 + 6000 + gap}, 7, testPT)
			if got := tt.requests.Load(); got != 2 {
				t.Errorf("keyframe requests = %d, want 2 (join + switch, though inside the interval)", got)
			}
			if st := tt.Stats(); st.Switches != 1 {
				t.Errorf("switches = %d, want 1", st.Switches)
			}
			// The old source's packets are gone from the ring: a NACK for
			// them must not resend the new source's packet with the same
			// upstream number.
			_, okOld := s.lookup(s0 + 1)
			q, okNew := s.lookup(s0 + 4)
			if okOld {
				t.Error("lookup of a pre-switch packet succeeded")
			}
			if !okNew || q.e.seq != 19 || q.ts != ts0+3000+gap {
				t.Errorf("lookup after switch = %+v %v", q, okNew)
			}
		})
	}
}

func TestAudioEveryPacketStartsAndSwitches(t *testing.T) {
	tt := newTestTrack(t, TrackParams{ID: "audio", Codec: opusCap})
	dt, ctx := bind(t, tt.Track, 9)
	s := dt.sinkForTest()
	s0, ts0 := s.seqStart, s.tsStart
	tt.write(t, 1, 500, 48000, true, []byte{0xfc, 1})
	tt.write(t, 1, 501, 48960, true, []byte{0xfc, 2})
	ctx.w.wait(t, 2)
	tt.clock.Advance(100 * time.Millisecond)
	tt.Switch()
	tt.write(t, 1, 9, 7, true, []byte{0xfc, 3})
	got := summarize(ctx.w, 3, t)
	checkOut(t, got, []uint16{s0, s0 + 1, s0 + 2}, []uint32{ts0, ts0 + 960, ts0 + 960 + 4800}, 9, 111)
	if n := tt.requests.Load(); n != 0 {
		t.Errorf("audio track requested %d keyframes", n)
	}
}

func TestFullQueueDropsUntilNextKeyframe(t *testing.T) {
	tt := newTestTrack(t, TrackParams{QueueSize: 2})
	dt := tt.NewDownTrack()
	ctx := newFakeContext(t, "ctx", 5)
	ctx.w.block = make(chan struct{})
	ctx.w.entered = make(chan struct{}, 16)
	if _, err := dt.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dt.Close() })
	s := dt.sinkForTest()
	s0, ts0 := s.seqStart, s.tsStart

	tt.write(t, 1, 10, 100, true, stapA(testSPS, testPPS, []byte{0x65, 1}))
	select { // the writer holds packet 10 inside WriteRTP
	case <-ctx.w.entered:
	case <-time.After(testTimeout):
		t.Fatal("writer did not start")
	}
	tt.write(t, 1, 11, 3100, true, nonIDR(1))                 // queued
	tt.write(t, 1, 12, 6100, true, nonIDR(2))                 // queued: queue full
	tt.write(t, 1, 13, 9100, true, nonIDR(3))                 // dropped
	tt.write(t, 1, 14, 12100, true, nonIDR(4))                // skipped: waiting for a keyframe
	tt.write(t, 1, 15, 15100, false, stapA(testSPS, testPPS)) // keyframe, but the queue is still full: dropped
	tt.write(t, 1, 16, 15100, true, fuA(true, true, 5, 1))    // same access unit: skipped
	if st := dt.Stats(); st.Dropped != 2 || st.Skipped != 2 || tt.Stats().Dropped != 2 {
		t.Fatalf("dt stats %+v, track dropped %d; want 2 dropped, 2 skipped", st, tt.Stats().Dropped)
	}
	close(ctx.w.block)
	ctx.w.wait(t, 3)                                          // the queue is empty again
	tt.write(t, 1, 17, 18100, true, nonIDR(5))                // still waiting: skipped
	tt.write(t, 1, 18, 21100, false, stapA(testSPS, testPPS)) // resumes here
	tt.write(t, 1, 19, 21100, true, fuA(true, true, 5, 2))
	ctx.w.wait(t, 5)
	tt.write(t, 1, 20, 24100, true, nonIDR(6))
	got := summarize(ctx.w, 6, t)
	checkOut(t, got,
		[]uint16{s0, s0 + 1, s0 + 2, s0 + 3, s0 + 4, s0 + 5},
		[]uint32{ts0, ts0 + 3000, ts0 + 6000, ts0 + 21000, ts0 + 21000, ts0 + 24000}, 5, testPT)
	if string(got[3].payload) != string(stapA(testSPS, testPPS)) {
		t.Errorf("resumed at % x, want the keyframe", got[3].payload)
	}
	if st := dt.Stats(); st.Dropped != 2 || st.Skipped != 3 {
		t.Errorf("stats %+v, want 2 dropped 3 skipped", st)
	}
}

func TestNotReadySenderRestartsAtKeyframe(t *testing.T) {
	tt := newTestTrack(t, TrackParams{})
	dt := tt.NewDownTrack()
	ctx := newFakeContext(t, "ctx", 5)
	ctx.w.notReady.Store(true)
	if _, err := dt.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dt.Close() })
	s0 := dt.sinkForTest().seqStart

	tt.write(t, 1, 1, 100, true, stapA(testSPS, testPPS, []byte{0x65, 1}))
	// The writer finds the sender not ready and restarts the viewer (a
	// coalesced keyframe request records that).
	waitFor(t, "restart", func() bool { return tt.Stats().KeyframeRequestsSuppressed == 1 })
	ctx.w.notReady.Store(false)
	tt.write(t, 1, 2, 3100, true, nonIDR(1)) // not a keyframe: skipped
	tt.write(t, 1, 3, 6100, false, stapA(testSPS, testPPS))
	tt.write(t, 1, 4, 6100, true, fuA(true, true, 5, 2))
	got := summarize(ctx.w, 2, t)
	if got[0].seq != s0+1 || got[1].seq != s0+2 || string(got[0].payload) != string(stapA(testSPS, testPPS)) {
		t.Errorf("first packets seq %d,%d payload % x; want %d,%d starting at the keyframe", got[0].seq, got[1].seq, got[0].payload, s0+1, s0+2)
	}
	if tt.requests.Load() != 1 {
		t.Errorf("keyframe requests %d, want 1 (the restart was coalesced)", tt.requests.Load())
	}
}

func TestBindUnbindClose(t *testing.T) {
	tt := newTestTrack(t, TrackParams{})

	// No usable codec.
	dt := tt.NewDownTrack()
	ctx := newFakeContext(t, "a", 1)
	ctx.codecs = ctx.codecs[2:] // Opus only
	if _, err := dt.Bind(ctx); !errors.Is(err, webrtc.ErrUnsupportedCodec) {
		t.Fatalf("Bind without H.264: %v", err)
	}

	ctx.codecs = viewerCodecs()
	codec, err := dt.Bind(ctx)
	if err != nil || codec.PayloadType != testPT {
		t.Fatalf("Bind = %v, %v", codec, err)
	}
	if dt.ID() != "video" || dt.StreamID() != "demo" || dt.RID() != "" || dt.Kind() != webrtc.RTPCodecTypeVideo {
		t.Error("TrackLocal identity wrong")
	}
	if _, err := dt.Bind(newFakeContext(t, "b", 2)); !errors.Is(err, ErrAlreadyBound) {
		t.Errorf("second Bind: %v", err)
	}
	if err := dt.Unbind(&fakeContext{id: "b"}); !errors.Is(err, ErrNotBound) {
		t.Errorf("Unbind other context: %v", err)
	}
	if tt.Stats().Viewers != 1 {
		t.Fatal("viewer not attached")
	}
	if err := dt.Unbind(ctx); err != nil {
		t.Fatal(err)
	}
	if tt.Stats().Viewers != 0 {
		t.Fatal("viewer still attached after Unbind")
	}
	// Rebind after Unbind (pion's ReplaceTrack does this), then Close.
	ctx2 := newFakeContext(t, "c", 3)
	if _, err := dt.Bind(ctx2); err != nil {
		t.Fatal(err)
	}
	if err := dt.Close(); err != nil {
		t.Fatal(err)
	}
	if tt.Stats().Viewers != 0 {
		t.Fatal("viewer still attached after Close")
	}
	if err := dt.Unbind(ctx2); err != nil {
		t.Errorf("Unbind after Close: %v", err)
	}
	if _, err := dt.Bind(newFakeContext(t, "d", 4)); !errors.Is(err, ErrClosed) {
		t.Errorf("Bind after Close: %v", err)
	}
	// Packets after Close reach nobody.
	tt.write(t, 1, 1, 1, true, stapA(testSPS, testPPS))
	if n := len(ctx2.w.written()); n != 0 {
		t.Errorf("closed DownTrack wrote %d packets", n)
	}
}

func TestTrackClose(t *testing.T) {
	tt := newTestTrack(t, TrackParams{})
	dt, _ := bind(t, tt.Track, 1)
	if err := tt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tt.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := tt.WriteRTP(pkt(1, 1, 1, true, nonIDR(1))); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteRTP after Close: %v", err)
	}
	if st := tt.Stats(); st.Viewers != 0 {
		t.Errorf("viewers after Close: %d", st.Viewers)
	}
	if dt.sinkForTest().stopped() != true {
		t.Error("writer not stopped")
	}
	if _, err := tt.NewDownTrack().Bind(newFakeContext(t, "x", 2)); !errors.Is(err, ErrClosed) {
		t.Errorf("Bind on closed track: %v", err)
	}
	if err := tt.WriteRTP(nil); !errors.Is(err, ErrParams) {
		t.Errorf("WriteRTP(nil): %v", err)
	}
}

func TestSequenceContinuousOverLongRun(t *testing.T) {
	// Upstream and outgoing numbers both wrap, and the run outlasts half
	// the sequence space after the viewer's start.
	tt := newTestTrack(t, TrackParams{ID: "audio", Codec: opusCap, BufferPackets: 16})
	dt, ctx := bind(t, tt.Track, 3)
	s := dt.sinkForTest()
	s.mu.Lock()
	s.seqStart = 65500
	s.mu.Unlock()
	const total, batch = 33024, 256 // > 2^15, a whole number of batches
	up := uint16(65000)
	for n := 0; n < total; {
		for range batch {
			tt.write(t, 1, up, uint32(n)*960, true, []byte{0xfc})
			up++
			n++
		}
		ctx.w.wait(t, n)
	}
	got := ctx.w.written()
	for i := 1; i < len(got); i++ {
		if got[i].SequenceNumber != got[i-1].SequenceNumber+1 || got[i].Timestamp != got[i-1].Timestamp+960 {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", i,
				got[i].SequenceNumber, got[i].Timestamp, got[i-1].SequenceNumber, got[i-1].Timestamp)
		}
	}
	if len(got) != total || tt.Stats().Late != 0 {
		t.Errorf("got %d packets, late %d", len(got), tt.Stats().Late)
	}
}

func TestLatePacketsNotForwarded(t *testing.T) {
	tt := newTestTrack(t, TrackParams{BufferPackets: 4})
	_, ctx := bind(t, tt.Track, 3)
	tt.write(t, 1, 100, 0, true, stapA(testSPS, testPPS, []byte{0x65, 1}))
	tt.write(t, 1, 101, 3000, true, nonIDR(1))
	tt.write(t, 1, 99, 0, true, nonIDR(2)) // late but inside the ring: before the viewer's start
	tt.write(t, 1, 90, 0, true, nonIDR(3)) // older than the ring
	tt.write(t, 1, 102, 6000, true, nonIDR(4))
	got := ctx.w.wait(t, 3)
	if got[2].SequenceNumber != got[0].SequenceNumber+2 || got[2].Payload[2] != 4 {
		t.Errorf("third packet seq %d payload % x", got[2].SequenceNumber, got[2].Payload)
	}
	if st := tt.Stats(); st.Late != 1 {
		t.Errorf("late = %d, want 1", st.Late)
	}
}
