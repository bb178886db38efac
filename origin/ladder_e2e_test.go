package origin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/canopylive/canopy/internal/testsrc"
	"github.com/canopylive/canopy/origin"
	"github.com/canopylive/canopy/proto"
)

// TestLadder1080p30 is acceptance 1-3: a 1080p30 H.264/AAC publisher over
// real RTMP gets a four-rung ladder that ffprobe opens over HLS and DASH,
// with aligned 2 s segments whose signatures verify.
func TestLadder1080p30(t *testing.T) {
	e := startOrigin(t, t.TempDir(), []origin.StreamKey{{ID: "main", Key: "main-secret-key"}}, newKey(t), nil)
	start := time.Now()
	e.publish("main-secret-key", testsrc.Params{Width: 1920, Height: 1080, FPS: 30, Audio: true, Realtime: true, Duration: 14 * time.Second})

	eventually(t, 10*time.Second, "master.m3u8", func() bool {
		code, _ := e.get("/live/main/master.m3u8")
		return code == http.StatusOK
	})
	t.Logf("master playlist after %v", time.Since(start).Round(time.Millisecond))
	_, master := e.get("/live/main/master.m3u8")
	for _, want := range []string{"RESOLUTION=1920x1080", "RESOLUTION=1280x720", "RESOLUTION=854x480", "RESOLUTION=256x144",
		`CODECS="avc1.`, "mp4a.40.2"} {
		if !strings.Contains(string(master), want) {
			t.Errorf("master playlist lacks %q:\n%s", want, master)
		}
	}

	renditions := map[string][2]int{"1080p": {1920, 1080}, "720p": {1280, 720}, "480p": {854, 480}, "144p": {256, 144}}
	// Let a few segments accumulate, then check every rendition.
	eventually(t, 20*time.Second, "four segments per rendition", func() bool {
		return len(mediaOnly(e.records("main", "144p"))) >= 4 && len(mediaOnly(e.records("main", "1080p"))) >= 4
	})
	for name, size := range renditions {
		frames := decodedFrames(t, e.base+"/live/main/"+name+"/index.m3u8", 5)
		if len(frames) == 0 {
			t.Fatalf("%s: ffprobe decoded no frames", name)
		}
		for _, f := range frames {
			if f != size {
				t.Errorf("%s: decoded frame %dx%d, want %dx%d", name, f[0], f[1], size[0], size[1])
			}
		}
	}

	// DASH: ffprobe finds the same four representations.
	m := ffprobe(t, "-show_streams", e.base+"/live/main/manifest.mpd")
	heights := map[int]bool{}
	for _, s := range m["streams"].([]any) {
		sm := s.(map[string]any)
		if sm["codec_type"] == "video" {
			heights[int(sm["height"].(float64))] = true
		}
	}
	for _, h := range []int{1080, 720, 480, 144} {
		if !heights[h] {
			t.Errorf("DASH: no %dp video representation (got %v)", h, heights)
		}
	}

	// Signatures and hashes verify against the key the origin publishes.
	_, body := e.get("/api/v1/origin")
	var info origin.OriginInfo
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}
	pub, err := proto.DecodePublicKey(info.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	perRendition := map[string][]proto.Segment{}
	for name := range renditions {
		recs := e.records("main", name)
		for _, rec := range recs {
			code, data := e.get("/live/main/" + name + "/" + rec.FileName())
			if code != http.StatusOK {
				t.Fatalf("%s/%s: HTTP %d", name, rec.FileName(), code)
			}
			if err := rec.VerifyData(pub, data); err != nil {
				t.Errorf("%s/%s: %v", name, rec.FileName(), err)
			}
		}
		perRendition[name] = mediaOnly(recs)
	}

	// Ingest, transcode and HTTP metrics are exported.
	_, metrics := e.get("/metrics")
	for _, want := range []string{`canopy_segments_sealed_total{rendition="1080p",stream="main"}`, `canopy_ingest_bytes_total{stream="main"}`,
		`canopy_transcode_speed{stream="main"}`, `canopy_http_response_bytes_total{route="segment"}`, "canopy_rtmp_connections 1"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Durations 2.0 ± 0.1 s and the same start time in every rendition.
	ref := perRendition["1080p"]
	for name, segs := range perRendition {
		for i, s := range segs {
			if i < len(segs)-1 && (s.Duration < 1900*time.Millisecond || s.Duration > 2100*time.Millisecond) {
				t.Errorf("%s seq %d: duration %v", name, s.Sequence, s.Duration)
			}
			if i < len(ref) && ref[i].Sequence == s.Sequence {
				if d := s.Start - ref[i].Start; d > time.Millisecond || d < -time.Millisecond {
					t.Errorf("%s seq %d starts at %v, 1080p at %v", name, s.Sequence, s.Start, ref[i].Start)
				}
			}
		}
	}
}

// TestSourceVariants is acceptance 4: never upscale, video-only sources and
// 60 fps sources, as three concurrent streams on one origin.
func TestSourceVariants(t *testing.T) {
	keys := []origin.StreamKey{{ID: "hd", Key: "hd-secret-key"}, {ID: "silent", Key: "silent-secret-key"}, {ID: "fast", Key: "fast-secret-key"}}
	e := startOrigin(t, t.TempDir(), keys, newKey(t), nil)
	e.publish("hd-secret-key", testsrc.Params{Width: 1280, Height: 720, FPS: 30, Audio: true, Realtime: true, Duration: 9 * time.Second, Bitrate: "1500k"})
	e.publish("silent-secret-key", testsrc.Params{Width: 640, Height: 360, FPS: 30, Audio: false, Realtime: true, Duration: 9 * time.Second, Bitrate: "500k"})
	e.publish("fast-secret-key", testsrc.Params{Width: 426, Height: 240, FPS: 60, Audio: true, Realtime: true, Duration: 9 * time.Second, Bitrate: "500k"})

	for _, id := range []string{"hd", "silent", "fast"} {
		eventually(t, 20*time.Second, id+" has three segments", func() bool {
			s := e.streamInfo(id)
			if len(s.Renditions) == 0 || s.HLS == "" {
				return false
			}
			return len(mediaOnly(e.records(id, s.Renditions[len(s.Renditions)-1].Name))) >= 3
		})
	}

	var got []string
	for _, r := range e.streamInfo("hd").Renditions {
		got = append(got, r.Name)
	}
	if strings.Join(got, ",") != "720p,480p,144p" {
		t.Errorf("720p source renditions = %v, want 720p,480p,144p", got)
	}
	if f := decodedFrames(t, e.base+"/live/hd/720p/index.m3u8", 3); len(f) == 0 || f[0] != [2]int{1280, 720} {
		t.Errorf("hd 720p frames: %v", f)
	}

	silent := e.streamInfo("silent")
	for _, r := range silent.Renditions {
		if strings.Contains(r.Codecs, "mp4a") {
			t.Errorf("video-only source has audio codec %q", r.Codecs)
		}
	}
	m := ffprobe(t, "-show_streams", e.base+"/live/silent/"+silent.Renditions[0].Name+"/index.m3u8")
	if n := len(m["streams"].([]any)); n != 1 {
		t.Errorf("video-only rendition has %d streams, want 1", n)
	}
	if f := decodedFrames(t, e.base+"/live/silent/144p/index.m3u8", 3); len(f) == 0 || f[0] != [2]int{256, 144} {
		t.Errorf("silent 144p frames: %v", f)
	}

	segs := mediaOnly(e.records("fast", "144p"))
	for _, s := range segs[:len(segs)-1] {
		if s.Duration < 1900*time.Millisecond || s.Duration > 2100*time.Millisecond {
			t.Errorf("60 fps source: segment %d lasts %v", s.Sequence, s.Duration)
		}
	}
}
