package transcode

import (
	"errors"
	"reflect"
	"testing"
)

func TestPlan(t *testing.T) {
	src := func(w, h int) Source { return Source{Width: w, Height: h, FPS: 30, HasAudio: true} }
	enc := func(name string, w, h, br int) Rung { return Rung{Name: name, Width: w, Height: h, VideoBitrate: br} }
	pass := func(name string, w, h int) Rung { return Rung{Name: name, Width: w, Height: h, Passthrough: true} }
	tests := []struct {
		name        string
		ladder      []Rung
		src         Source
		passthrough bool
		want        []Rung
		wantErr     error
	}{
		{"1080p source gets the whole ladder", DefaultLadder(), src(1920, 1080), false, []Rung{
			enc("1080p", 1920, 1080, 5_000_000), enc("720p", 1280, 720, 2_800_000),
			enc("480p", 854, 480, 1_200_000), enc("144p", 256, 144, 200_000),
		}, nil},
		{"720p source: no upscale", DefaultLadder(), src(1280, 720), false, []Rung{
			enc("720p", 1280, 720, 2_800_000), enc("480p", 854, 480, 1_200_000), enc("144p", 256, 144, 200_000),
		}, nil},
		{"4:3 source: widths from the source aspect", DefaultLadder(), src(640, 480), false, []Rung{
			enc("480p", 640, 480, 1_200_000), enc("144p", 192, 144, 200_000),
		}, nil},
		{"1366x768: even widths", DefaultLadder(), src(1366, 768), false, []Rung{
			enc("720p", 1280, 720, 2_800_000), enc("480p", 854, 480, 1_200_000), enc("144p", 256, 144, 200_000),
		}, nil},
		{"portrait source", DefaultLadder(), src(720, 1280), false, []Rung{
			enc("1080p", 608, 1080, 5_000_000), enc("720p", 406, 720, 2_800_000),
			enc("480p", 270, 480, 1_200_000), enc("144p", 82, 144, 200_000),
		}, nil},
		{"passthrough replaces the top rung", DefaultLadder(), src(1920, 1080), true, []Rung{
			pass("1080p", 1920, 1080), enc("720p", 1280, 720, 2_800_000),
			enc("480p", 854, 480, 1_200_000), enc("144p", 256, 144, 200_000),
		}, nil},
		{"passthrough of an odd size source", DefaultLadder(), src(1000, 563), true, []Rung{
			pass("563p", 1000, 563), enc("480p", 852, 480, 1_200_000), enc("144p", 256, 144, 200_000),
		}, nil},
		{"passthrough drops encoded rungs as tall as the source", DefaultLadder(), src(1280, 720), true, []Rung{
			pass("720p", 1280, 720), enc("480p", 854, 480, 1_200_000), enc("144p", 256, 144, 200_000),
		}, nil},
		{"tiny source with passthrough keeps only the copy", DefaultLadder(), src(128, 96), true, []Rung{
			pass("96p", 128, 96),
		}, nil},
		{"tiny source without passthrough: nothing left", DefaultLadder(), src(128, 96), false, nil, ErrBadLadder},
		{"zero size source", DefaultLadder(), Source{FPS: 30}, false, nil, ErrBadSource},
		{"zero fps", DefaultLadder(), Source{Width: 1280, Height: 720}, false, nil, ErrBadSource},
		{"duplicate names", []Rung{enc("a", 0, 144, 1), enc("a", 0, 144, 1)}, src(1280, 720), false, nil, ErrBadLadder},
		{"odd rung height", []Rung{enc("a", 0, 145, 1)}, src(1280, 720), false, nil, ErrBadLadder},
		{"no bitrate", []Rung{enc("a", 0, 144, 0)}, src(1280, 720), false, nil, ErrBadLadder},
		{"passthrough rung in ladder", []Rung{pass("x", 0, 144)}, src(1280, 720), false, nil, ErrBadLadder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Plan(tc.ladder, tc.src, tc.passthrough)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Plan error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Plan =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestDefaultLadderIsFresh(t *testing.T) {
	a := DefaultLadder()
	a[0].Height = 1
	if DefaultLadder()[0].Height != 1080 {
		t.Fatal("DefaultLadder returned shared state")
	}
}
