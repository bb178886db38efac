//go:build e2e

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
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
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/testsrc"
	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/sfu/whep"
)

// whepViewer records what a WHEP client receives.
type whepViewer struct {
	mu      sync.Mutex
	annexB  bytes.Buffer
	video   []time.Time // arrival of each video packet
	audio   int
	codecs  []string
	started chan struct{}
	once    sync.Once
}

func (v *whepViewer) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	var h264 codecs.H264Packet
	v.mu.Lock()
	v.codecs = append(v.codecs, t.Codec().MimeType)
	v.mu.Unlock()
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		v.mu.Lock()
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			v.video = append(v.video, time.Now())
			if nal, err := h264.Unmarshal(p.Payload); err == nil {
				v.annexB.Write(nal)
			}
			v.once.Do(func() { close(v.started) })
		} else {
			v.audio++
		}
		v.mu.Unlock()
	}
}

// TestWHEPThroughThreeHops is the low-latency issue's acceptance point 1
// (without the glass-to-glass clock, see the issue note) and point 3: an
// origin with low latency on, three relay nodes that the tracker must
// chain (every node and the origin take one child), and a pion WHEP client
// on the deepest node. It gets decodable H.264 and Opus; then the middle
// relay is killed and the time until the viewer's video resumes is
// measured against 2 s + 1 GOP.
func TestWHEPThroughThreeHops(t *testing.T) {
	dir := t.TempDir()
	e := &treeEnv{t: t, log: quietLogger(t), cfg: config.Default()}
	e.cfg.DataDir = dir
	e.cfg.Origin.HTTP, e.cfg.Origin.RTMP = "127.0.0.1:0", "127.0.0.1:0"
	e.cfg.Origin.P2P = config.P2P{Listen: loopbackP2P()}
	e.cfg.Origin.RelayChildren = 1
	e.cfg.Origin.Transcode.Preset = "ultrafast"
	e.cfg.Origin.LowLatency.Enabled = true
	e.cfg.Origin.Streams = []config.Stream{{ID: treeStream, Key: "tree-secret-key"}}
	e.trackers = append(e.trackers, e.startTracker("", nil))
	t.Cleanup(func() { e.trackers[0].stop() })
	st, err := startOriginStack(context.Background(), e.cfg, e.trackerInfos(), nil, e.log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.key = st.o.PublicKey()

	var se webrtc.SettingEngine
	superpeer.LoopbackSettings(&se)
	urls := map[string]string{} // node ID -> its HTTP base URL
	lls := map[string]*nodeLowLatency{}
	for range 3 {
		tn := e.addNode(1)
		ll, err := startNodeLowLatency(context.Background(), tn.h, tn.n, []string{treeStream}, se, e.log, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		ll.Register(mux)
		srv := httptest.NewServer(mux)
		urls[tn.h.ID().String()] = srv.URL
		lls[tn.h.ID().String()] = ll
		t.Cleanup(func() { srv.Close(); _ = ll.Close() })
	}
	t.Cleanup(func() {
		for _, tn := range e.alive() {
			tn.kill()
		}
	})
	pub, err := testsrc.Start(context.Background(), testsrc.Params{URL: "rtmp://" + st.o.RTMPAddr() + "/live/tree-secret-key",
		Width: 640, Height: 360, FPS: 30, Audio: true, Realtime: true, Bitrate: "800k", GOP: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })

	// The chain: origin -> a -> b -> c, found by following parents.
	var chain []*testNode
	waitUntil(t, 30*time.Second, "a chain of three relay nodes under the origin", func() bool {
		chain = chain[:0]
		parent := st.h.ID().String()
		for len(chain) < 3 {
			var next *testNode
			for _, tn := range e.nodes {
				if tn.n.Parent(treeStream).String() == parent {
					next = tn
				}
			}
			if next == nil {
				return false
			}
			chain = append(chain, next)
			parent = next.h.ID().String()
		}
		return true
	})
	deepest := chain[2].h.ID().String()
	waitUntil(t, 20*time.Second, "low-latency tracks on the deepest node", func() bool {
		return len(lls[deepest].Tracks(treeStream)) == 2
	})

	v := &whepViewer{started: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := whep.Dial(ctx, whep.ClientParams{Endpoint: urls[deepest] + "/live/" + treeStream + "/whep",
		API: webrtc.NewAPI(webrtc.WithSettingEngine(se)), OnTrack: v.onTrack})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	select {
	case <-v.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no video from the deepest relay within 10 s")
	}
	time.Sleep(4 * time.Second) // watching, not synchronisation

	// Kill the middle relay: the deepest node moves to its backup.
	v.mu.Lock()
	before := len(v.video)
	v.mu.Unlock()
	killed := time.Now()
	chain[1].kill()
	waitUntil(t, 15*time.Second, "video resumes after the middle relay died", func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return len(v.video) > before+30 && v.video[len(v.video)-1].After(killed.Add(time.Second))
	})
	time.Sleep(2 * time.Second) // watching, not synchronisation

	v.mu.Lock()
	defer v.mu.Unlock()
	// The longest silence in the video after the kill.
	var gap time.Duration
	last := killed
	for _, at := range v.video[before:] {
		if d := at.Sub(last); d > gap {
			gap = d
		}
		last = at
	}
	t.Logf("deepest relay (3 hops): %d video packets, %d audio packets, codecs %v; longest video gap after the middle relay died: %v (limit 2 s + 1 GOP = 3 s)",
		len(v.video), v.audio, v.codecs, gap.Round(time.Millisecond))
	if gap > 3*time.Second {
		t.Errorf("video stopped for %v after the middle relay died, limit 3 s", gap)
	}
	if v.audio < 150 {
		t.Errorf("only %d Opus packets", v.audio)
	}
	frames := decodeFrames(t, v.annexB.Bytes())
	t.Logf("ffprobe decoded %d frames of the H.264 received", frames)
	if frames < 150 { // ≥ 6 s of 30 fps, less start-up and the gap
		t.Errorf("ffprobe decoded %d frames, want ≥ 150", frames)
	}
}

// decodeFrames returns how many frames ffprobe decodes from Annex-B H.264.
func decodeFrames(t *testing.T, annexB []byte) int {
	t.Helper()
	file := filepath.Join(t.TempDir(), "whep.h264")
	if err := os.WriteFile(file, annexB, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "default=nw=1:nk=1", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("ffprobe output %q: %v", out, err)
	}
	return n
}
