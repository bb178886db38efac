package origin

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// bareSession is a session with no transcoder behind it: enough to test how
// tags are inspected before ffmpeg starts.
func bareSession(t testing.TB) *session {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	o := &Origin{metrics: m, log: slog.New(slog.DiscardHandler)}
	return newSession(o, "s", newBroadcast("s", "b", 0), o.log)
}

func TestTagInspection(t *testing.T) {
	seqHeader := append([]byte{0x17, 0x00, 0, 0, 0}, avcConfig1080...)
	for _, tc := range []struct {
		name  string
		video bool
		tag   []byte
		want  error
	}{
		{"avc sequence header", true, seqHeader, nil},
		{"avc keyframe before config is held back", true, []byte{0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65}, nil},
		{"sorenson h.263", true, []byte{0x22, 0, 0, 0}, ErrUnsupportedVideo},
		{"vp6", true, []byte{0x24, 0, 0, 0}, ErrUnsupportedVideo},
		{"broken avc config", true, []byte{0x17, 0x00, 0, 0, 0, 1, 2, 3}, ErrBadCodecConfig},
		{"empty video", true, nil, ErrBadCodecConfig},
		{"aac sequence header", false, []byte{0xaf, 0x00, 0x11, 0x90}, nil},
		{"mp3", false, []byte{0x2f, 0xff, 0xfb}, ErrUnsupportedAudio},
		{"broken aac config", false, []byte{0xaf, 0x00}, ErrBadCodecConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := bareSession(t)
			var err error
			if tc.video {
				err = s.onVideo(0, bytes.NewReader(tc.tag))
			} else {
				err = s.onAudio(0, bytes.NewReader(tc.tag))
			}
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	s := bareSession(t)
	if err := s.onVideo(0, bytes.NewReader(seqHeader)); err != nil {
		t.Fatal(err)
	}
	if s.video.Width != 1920 || s.video.Height != 1080 || s.avcHeader == nil {
		t.Errorf("sequence header not remembered: %+v", s.video)
	}
}

// FuzzFLVTags feeds arbitrary RTMP media payloads to a fresh session: any
// outcome but a panic is fine, and errors must be one of the refusal reasons.
func FuzzFLVTags(f *testing.F) {
	f.Add(true, append([]byte{0x17, 0x00, 0, 0, 0}, avcConfig1080...))
	f.Add(false, []byte{0xaf, 0x00, 0x11, 0x90})
	f.Add(true, []byte{0x22, 0, 0, 0})
	f.Fuzz(func(t *testing.T, video bool, payload []byte) {
		s := bareSession(t)
		var err error
		if video {
			err = s.onVideo(0, bytes.NewReader(payload))
		} else {
			err = s.onAudio(0, bytes.NewReader(payload))
		}
		if err != nil && !errors.Is(err, ErrBadCodecConfig) && !errors.Is(err, ErrUnsupportedVideo) && !errors.Is(err, ErrUnsupportedAudio) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}
