package origin_test

import (
	"crypto/rand"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canopylive/canopy/internal/testsrc"
	"github.com/canopylive/canopy/origin"
)

// TestBadInputLeavesLiveStreamAlone is acceptance 5: each bad publisher is
// refused with a logged reason while another stream keeps producing
// segments, and a killed ffmpeg child is restarted after a discontinuity.
func TestBadInputLeavesLiveStreamAlone(t *testing.T) {
	keys := []origin.StreamKey{{ID: "good", Key: "good-secret-key"}, {ID: "other", Key: "other-secret-key"}}
	e := startOrigin(t, t.TempDir(), keys, newKey(t), func(p *origin.Params) { p.IdleTimeout = 3 * time.Second })
	e.publish("good-secret-key", testsrc.Params{Width: 640, Height: 360, FPS: 30, Audio: true, Realtime: true, Bitrate: "600k"})
	lastSeq := func() uint64 {
		segs := mediaOnly(e.records("good", "144p"))
		if len(segs) == 0 {
			return 0
		}
		return segs[len(segs)-1].Sequence
	}
	eventually(t, 20*time.Second, "good stream live", func() bool {
		return e.streamInfo("good").HLS != "" && lastSeq() >= 1
	})

	refusedWith := func(reason string) func() bool {
		return func() bool { return strings.Contains(e.logs.String(), `reason="`+reason) }
	}
	small := testsrc.Params{Width: 320, Height: 180, FPS: 15, Realtime: true, Duration: 20 * time.Second, Bitrate: "200k"}

	// Wrong key.
	bad := e.publish("not-a-key", small)
	eventually(t, 10*time.Second, "unknown key refused", refusedWith(origin.ErrUnknownKey.Error()))
	<-bad.Done()

	// Second publisher on a live key.
	dup := e.publish("good-secret-key", small)
	eventually(t, 10*time.Second, "second publisher refused", refusedWith(origin.ErrAlreadyLive.Error()))
	<-dup.Done()

	// Random bytes to the RTMP port.
	c, err := net.Dial("tcp", e.o.RTMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 4096)
	_, _ = rand.Read(junk)
	junk[0] = 0x42 // not RTMP version 3
	_, _ = c.Write(junk)
	eventually(t, 10*time.Second, "garbage refused", refusedWith("garbage or incomplete RTMP handshake"))
	c.Close()

	// A client that connects and says nothing.
	idle, err := net.Dial("tcp", e.o.RTMPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	eventually(t, 10*time.Second, "silent client dropped", refusedWith(origin.ErrIdle.Error()))

	// Sorenson H.263 (FLV1) video instead of H.264.
	flv1 := small
	flv1.Codec = "flv"
	vp := e.publish("other-secret-key", flv1)
	eventually(t, 10*time.Second, "non-H.264 refused", refusedWith(origin.ErrUnsupportedVideo.Error()))
	<-vp.Done()

	// The good stream kept producing segments throughout.
	before := lastSeq()
	eventually(t, 10*time.Second, "good stream still advancing", func() bool { return lastSeq() >= before+2 })

	// Kill the transcoder: it restarts and the playlist continues after a
	// discontinuity.
	pids := transcoderPIDs(t)
	if len(pids) != 1 {
		t.Fatalf("want one transcoder child, found %v", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt := lastSeq()
	eventually(t, 20*time.Second, "segments after the restart", func() bool {
		_, pl := e.get("/live/good/144p/index.m3u8")
		i := strings.Index(string(pl), "#EXT-X-DISCONTINUITY\n")
		return i >= 0 && strings.Count(string(pl[i:]), ".m4s") >= 2 && lastSeq() > killedAt+1
	})
	segs := mediaOnly(e.records("good", "144p"))
	for i := 1; i < len(segs); i++ {
		if segs[i].Sequence != segs[i-1].Sequence+1 {
			t.Errorf("sequence jumps from %d to %d", segs[i-1].Sequence, segs[i].Sequence)
		}
	}
	if segs[len(segs)-1].Discontinuity != 1 {
		t.Errorf("after one restart the discontinuity number is %d, want 1", segs[len(segs)-1].Discontinuity)
	}
	if !strings.Contains(e.logs.String(), "ffmpeg exited") {
		t.Error("the ffmpeg crash was not logged")
	}
}
