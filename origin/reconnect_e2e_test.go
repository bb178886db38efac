package origin_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canopylive/canopy/internal/testsrc"
	"github.com/canopylive/canopy/origin"
	"github.com/canopylive/canopy/proto"
)

// TestReconnectThenVOD is acceptance 6: a publisher that comes back within
// the grace period continues the broadcast; after the grace period the
// broadcast ends and plays as VOD, also after an origin restart.
func TestReconnectThenVOD(t *testing.T) {
	dir := t.TempDir()
	keys := []origin.StreamKey{{ID: "talk", Key: "talk-secret-key"}}
	key := newKey(t)
	grace := 4 * time.Second
	feed := &recordingFeed{}
	e := startOrigin(t, dir, keys, key, func(p *origin.Params) {
		p.ReconnectGrace = grace
		if p.Feed == nil {
			p.Feed = feed
		}
	})
	src := testsrc.Params{Width: 640, Height: 360, FPS: 30, Audio: true, Realtime: true, Bitrate: "600k"}

	first := e.publish("talk-secret-key", src)
	eventually(t, 20*time.Second, "first session's segments", func() bool {
		return e.streamInfo("talk").HLS != "" && len(mediaOnly(e.records("talk", "144p"))) >= 2
	})
	broadcast := e.streamInfo("talk").Broadcast
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "publisher gone", func() bool { return !e.streamInfo("talk").Live })
	n1 := len(mediaOnly(e.records("talk", "144p")))

	second := e.publish("talk-secret-key", src)
	eventually(t, 20*time.Second, "second session's segments", func() bool {
		return len(mediaOnly(e.records("talk", "144p"))) >= n1+2
	})
	if got := e.streamInfo("talk").Broadcast; got != broadcast {
		t.Fatalf("reconnect started broadcast %s, want the same %s", got, broadcast)
	}
	segs := mediaOnly(e.records("talk", "144p"))
	for i := 1; i < len(segs); i++ {
		if segs[i].Sequence != segs[i-1].Sequence+1 {
			t.Fatalf("media sequence jumps from %d to %d across the reconnect", segs[i-1].Sequence, segs[i].Sequence)
		}
	}
	_, pl := e.get("/live/talk/144p/index.m3u8")
	if !strings.Contains(string(pl), "#EXT-X-DISCONTINUITY\n") {
		t.Errorf("no discontinuity at the seam:\n%s", pl)
	}

	// Stop for good: after the grace period the playlist ends.
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, grace+10*time.Second, "EXT-X-ENDLIST", func() bool {
		_, pl := e.get("/live/talk/144p/index.m3u8")
		return strings.Contains(string(pl), "#EXT-X-ENDLIST")
	})
	checkVOD(t, e)

	// The feed (the relay tree's root) saw every segment and the end.
	fed, ended := feed.counts()
	if want := len(e.records("talk", "144p")) * len(e.streamInfo("talk").Renditions); fed != want || ended != 1 {
		t.Errorf("feed got %d segments and %d ends; want %d and 1", fed, ended, want)
	}

	// Restart the origin on the same archive: still VOD.
	if err := e.o.Close(); err != nil {
		t.Fatal(err)
	}
	e.start()
	checkVOD(t, e)
	if got := e.streamInfo("talk"); !got.Ended || got.Broadcast != broadcast {
		t.Errorf("after restart: %+v", got)
	}
}

// recordingFeed counts what the origin feeds to the relay tree.
type recordingFeed struct {
	mu         sync.Mutex
	segs, ends int
}

func (f *recordingFeed) Segment(d origin.Description, rec proto.Segment, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d.Stream == rec.Stream && uint64(len(data)) == rec.Length {
		f.segs++
	}
}

func (f *recordingFeed) Ended(d origin.Description) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d.Ended {
		f.ends++
	}
}

func (f *recordingFeed) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.segs, f.ends
}

// checkVOD asserts the broadcast is a complete VOD that ffprobe plays.
func checkVOD(t *testing.T, e *env) {
	t.Helper()
	code, pl := e.get("/live/talk/144p/index.m3u8")
	if code != http.StatusOK || !strings.Contains(string(pl), "#EXT-X-ENDLIST") || !strings.Contains(string(pl), "#EXT-X-PLAYLIST-TYPE:VOD") {
		t.Fatalf("not a VOD playlist (%d):\n%s", code, pl)
	}
	if f := decodedFrames(t, e.base+"/live/talk/144p/index.m3u8", 3); len(f) == 0 {
		t.Error("ffprobe decoded nothing from the VOD")
	}
	code, mpd := e.get("/live/talk/manifest.mpd")
	if code != http.StatusOK || !strings.Contains(string(mpd), `type="static"`) {
		t.Errorf("MPD is not static (%d):\n%s", code, mpd)
	}
}
