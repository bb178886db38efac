package origin

import (
	"testing"

	"github.com/canopylive/canopy/transcode"
)

func TestWebRTCVideo(t *testing.T) {
	r720 := transcode.Rung{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 2_800_000}
	r480 := transcode.Rung{Name: "480p", Width: 854, Height: 480, VideoBitrate: 1_200_000}
	r144 := transcode.Rung{Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000}
	pass480 := transcode.Rung{Name: "480p", Width: 854, Height: 480, Passthrough: true}
	pass1080 := transcode.Rung{Name: "1080p", Width: 1920, Height: 1080, Passthrough: true}
	ladder := transcode.DefaultLadder()
	for _, tc := range []struct {
		name        string
		rungs       []transcode.Rung
		rung        string
		wantBitrate int
		wantLow     bool
	}{
		{"default pick 720p: its own bitrate, a 360p low layer", []transcode.Rung{r720, r480, r144}, "", 0, true},
		{"480p: a 240p low layer", []transcode.Rung{r480, r144}, "", 0, true},
		{"only 144p: no low layer", []transcode.Rung{r144}, "", 0, false},
		{"named 144p in a tall ladder: none", []transcode.Rung{r720, r144}, "144p", 0, false},
		{"unknown rung: nothing (the transcoder refuses it anyway)", []transcode.Rung{r720}, "9000p", 0, false},
		{"a 480p publisher with passthrough: 480p at the ladder's 480p bitrate", []transcode.Rung{pass480, r144}, "", 1_200_000, true},
		{"a 1080p publisher with passthrough: 720p as before", []transcode.Rung{pass1080, r720, r144}, "", 0, true},
	} {
		br, low := webrtcVideo(tc.rungs, ladder, tc.rung)
		if br != tc.wantBitrate || low != tc.wantLow {
			t.Errorf("%s: webrtcVideo = %d, %v; want %d, %v", tc.name, br, low, tc.wantBitrate, tc.wantLow)
		}
	}
}

func TestBitrateForSize(t *testing.T) {
	ladder := transcode.DefaultLadder()
	for _, tc := range []struct{ w, h, want int }{
		{854, 480, 1_200_000},
		{1280, 720, 2_800_000},
		{640, 360, 1_200_000 * 640 * 360 / (853 * 480)},
	} {
		if got := bitrateForSize(ladder, tc.w, tc.h); got < tc.want*99/100 || got > tc.want*101/100 {
			t.Errorf("bitrateForSize(%d, %d) = %d, want ~%d", tc.w, tc.h, got, tc.want)
		}
	}
	if got := bitrateForSize(nil, 640, 360); got != 0 {
		t.Errorf("empty ladder: %d", got)
	}
}
