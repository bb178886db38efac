package origin_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/internal/testsrc"
	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/origin"
	"github.com/canopylive/canopy/sfu/whep"
)

// received collects what a WHEP client got.
type received struct {
	mu         sync.Mutex
	annexB     bytes.Buffer // the H.264 depacketized
	videoPkts  int
	audioPkts  int
	videoCodec string
	audioCodec string
}

func (r *received) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	var h264 codecs.H264Packet
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		r.mu.Lock()
		switch t.Kind() {
		case webrtc.RTPCodecTypeVideo:
			r.videoCodec = t.Codec().MimeType
			r.videoPkts++
			if nal, err := h264.Unmarshal(p.Payload); err == nil {
				r.annexB.Write(nal)
			}
		case webrtc.RTPCodecTypeAudio:
			r.audioCodec = t.Codec().MimeType
			r.audioPkts++
		}
		r.mu.Unlock()
	}
}

// TestWHEPFromOrigin: a pion WHEP client gets the origin's low-latency
// output of a real RTMP publisher: decodable H.264 (ffprobe decodes the
// frames it received) and Opus.
func TestWHEPFromOrigin(t *testing.T) {
	var se webrtc.SettingEngine
	superpeer.LoopbackSettings(&se)
	e := startOrigin(t, t.TempDir(), []origin.StreamKey{{ID: "live", Key: "live-secret"}}, newKey(t), func(p *origin.Params) {
		p.LowLatency = origin.LowLatencyParams{Enabled: true, SettingEngine: se}
	})
	e.publish("live-secret", testsrc.Params{Width: 640, Height: 360, FPS: 30, Audio: true, Realtime: true, GOP: time.Second})
	eventually(t, 15*time.Second, "master playlist", func() bool {
		code, _ := e.get("/live/live/master.m3u8")
		return code == 200
	})

	var rcv received
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := whep.Dial(ctx, whep.ClientParams{Endpoint: e.base + "/live/live/whep", API: api, OnTrack: rcv.onTrack})
	if err != nil {
		t.Fatal(err)
	}
	connected := make(chan struct{})
	var once sync.Once
	c.PC.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("WHEP session never connected")
	}
	const watch = 4 * time.Second
	time.Sleep(watch) // receiving media for a while, not synchronisation
	if err := c.Close(context.Background()); err != nil {
		t.Errorf("DELETE session: %v", err)
	}

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	t.Logf("received %d video packets (%s), %d audio packets (%s), %d bytes of H.264 in %v",
		rcv.videoPkts, rcv.videoCodec, rcv.audioPkts, rcv.audioCodec, rcv.annexB.Len(), watch)
	if rcv.videoCodec != webrtc.MimeTypeH264 || rcv.audioCodec != webrtc.MimeTypeOpus {
		t.Fatalf("codecs %q %q", rcv.videoCodec, rcv.audioCodec)
	}
	if rcv.audioPkts < 100 { // 50 Opus packets a second
		t.Errorf("only %d audio packets in %v", rcv.audioPkts, watch)
	}
	file := filepath.Join(t.TempDir(), "whep.h264")
	if err := os.WriteFile(file, rcv.annexB.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,profile,width,height,nb_read_frames", "-of", "default=nw=1", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	t.Logf("ffprobe: %s", strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", ", "))
	frames := 0
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "nb_read_frames="); ok {
			frames, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if frames < 60 { // 30 fps for 4 s, less start-up at a keyframe
		t.Errorf("ffprobe decoded %d frames of what arrived, want ≥ 60", frames)
	}
	if !strings.Contains(string(out), "Constrained Baseline") {
		t.Errorf("profile is not Constrained Baseline: %s", out)
	}
}
