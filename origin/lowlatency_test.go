package origin

import (
	"testing"

	"github.com/canopylive/canopy/transcode"
)

func TestLowLayerFor(t *testing.T) {
	r720 := transcode.Rung{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 2_800_000}
	r480 := transcode.Rung{Name: "480p", Width: 854, Height: 480, VideoBitrate: 1_200_000}
	r144 := transcode.Rung{Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000}
	pass := transcode.Rung{Name: "src", Width: 1920, Height: 1080, Passthrough: true}
	for _, tc := range []struct {
		name  string
		rungs []transcode.Rung
		rung  string
		want  bool
	}{
		{"default pick 720p: a 360p low layer", []transcode.Rung{r720, r480, r144}, "", true},
		{"480p: a 240p low layer", []transcode.Rung{r480, r144}, "", true},
		{"only 144p: none", []transcode.Rung{r144}, "", false},
		{"named 144p in a tall ladder: none", []transcode.Rung{r720, r144}, "144p", false},
		{"unknown rung: none (the transcoder refuses it anyway)", []transcode.Rung{r720}, "9000p", false},
		{"passthrough without a bitrate: none", []transcode.Rung{pass}, "", false},
	} {
		if got := lowLayerFor(tc.rungs, tc.rung); got != tc.want {
			t.Errorf("%s: lowLayerFor = %v, want %v", tc.name, got, tc.want)
		}
	}
}
