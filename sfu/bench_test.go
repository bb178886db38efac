package sfu

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// BenchmarkFanout forwards 1200-byte H.264 packets from one Track to 200
// bound DownTracks whose senders discard them, in batches small enough that
// no queue overflows, and reports packets forwarded (written to a viewer's
// sender) per second.
func BenchmarkFanout(b *testing.B) {
	const (
		viewers = 200
		batch   = 256 // < QueueSize: nothing is dropped
	)
	tr, err := NewTrack(TrackParams{ID: "video", StreamID: "bench", Codec: h264Cap})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })

	var written, target atomic.Int64
	drained := make(chan struct{}, 1)
	onWrite := func() {
		if written.Add(1) == target.Load() {
			drained <- struct{}{}
		}
	}
	dts := make([]*DownTrack, viewers)
	for i := range dts {
		ctx := newFakeContext(b, fmt.Sprint("pc", i), webrtc.SSRC(i+1))
		ctx.w.discard = onWrite
		dts[i] = tr.NewDownTrack()
		if _, err := dts[i].Bind(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = dts[i].Close() })
	}

	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}}
	var sent int64
	write := func(payload []byte, n int) {
		target.Store(int64(viewers) * (sent + int64(n)))
		for range n {
			p.SequenceNumber++
			p.Timestamp += 3000
			p.Payload = payload
			if err := tr.WriteRTP(p); err != nil {
				b.Fatal(err)
			}
		}
		sent += int64(n)
		select {
		case <-drained:
		case <-time.After(time.Minute):
			b.Fatalf("viewers drained %d of %d packets", written.Load(), target.Load())
		}
	}
	write(stapA(testSPS, testPPS, []byte{0x65, 0x88}), 1) // every viewer starts here

	payload := make([]byte, 1200)
	payload[0] = 0x41 // non-IDR slice
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; done += batch {
		write(payload, min(batch, b.N-done))
	}
	elapsed := time.Since(start)
	b.StopTimer()

	var dropped uint64
	for _, dt := range dts {
		st := dt.Stats()
		dropped += st.Dropped + st.Skipped
	}
	if dropped != 0 {
		b.Fatalf("%d packets dropped or skipped", dropped)
	}
	b.ReportMetric(float64(b.N)*viewers/elapsed.Seconds(), "packets/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "upstream-packets/s")
}
