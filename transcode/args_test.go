package transcode

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testMovflags = "cmaf+frag_keyframe+empty_moov+default_base_moof"

var argsHead = []string{"-hide_banner", "-nostats", "-loglevel", "level+info", "-f", "flv", "-i", "pipe:0"}

func TestBuildArgs(t *testing.T) {
	src1080 := Source{Width: 1920, Height: 1080, FPS: 30, HasAudio: true}
	plan := func(src Source, passthrough bool) []Rung {
		r, err := Plan(DefaultLadder(), src, passthrough)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name string
		p    ArgsParams
		want []string
	}{
		{
			name: "default ladder, 1080p30 with audio",
			p:    ArgsParams{Rungs: plan(src1080, false), Source: src1080},
			want: concat(argsHead, []string{
				"-filter_complex", "[0:v:0]scale=1920:1080:flags=bilinear,split=2[v0][c0];[c0]scale=1280:720:flags=bilinear,split=2[v1][c1];[c1]scale=854:480:flags=bilinear,split=2[v2][c2];[c2]scale=256:144:flags=area[v3]",
				"-map", "[v0]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
				"-b:v", "5000000", "-maxrate", "5500000", "-bufsize", "11000000",
				"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:3",
				"-map", "[v1]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
				"-b:v", "2800000", "-maxrate", "3080000", "-bufsize", "6160000",
				"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:4",
				"-map", "[v2]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
				"-b:v", "1200000", "-maxrate", "1320000", "-bufsize", "2640000",
				"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:5",
				"-map", "[v3]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
				"-b:v", "200000", "-maxrate", "220000", "-bufsize", "440000",
				"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:6",
				"-progress", "pipe:7",
			}),
		},
		{
			name: "720p source, ultrafast, 2 threads",
			p: ArgsParams{
				Rungs:  plan(Source{Width: 1280, Height: 720, FPS: 30, HasAudio: true}, false),
				Source: Source{Width: 1280, Height: 720, FPS: 30, HasAudio: true}, Preset: "ultrafast", Threads: 2,
				SegmentDuration: 2 * time.Second,
			},
			want: concat(argsHead, []string{
				"-filter_complex", "[0:v:0]scale=1280:720:flags=bilinear,split=2[v0][c0];[c0]scale=854:480:flags=bilinear,split=2[v1][c1];[c1]scale=256:144:flags=area[v2]",
				"-map", "[v0]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high", "-pix_fmt", "yuv420p",
				"-b:v", "2800000", "-maxrate", "3080000", "-bufsize", "6160000",
				"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)", "-threads", "2",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:3",
				"-map", "[v1]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "main", "-pix_fmt", "yuv420p",
				"-b:v", "1200000", "-maxrate", "1320000", "-bufsize", "2640000",
				"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)", "-threads", "2",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:4",
				"-map", "[v2]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "main", "-pix_fmt", "yuv420p",
				"-b:v", "200000", "-maxrate", "220000", "-bufsize", "440000",
				"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)", "-threads", "2",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:5",
				"-progress", "pipe:6",
			}),
		},
		{
			name: "video-only source, one rung: no split, no audio",
			p: ArgsParams{
				Rungs:  []Rung{{Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000}},
				Source: Source{Width: 640, Height: 360, FPS: 25},
			},
			want: concat(argsHead, []string{
				"-filter_complex", "[0:v:0]scale=256:144:flags=area[v0]",
				"-map", "[v0]",
				"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
				"-b:v", "200000", "-maxrate", "220000", "-bufsize", "440000",
				"-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)",
				"-f", "mp4", "-movflags", testMovflags, "pipe:3",
				"-progress", "pipe:4",
			}),
		},
		{
			name: "60 fps: GOP 120 frames, still 2 s",
			p: ArgsParams{
				Rungs:  []Rung{{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 2_800_000}, {Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000}},
				Source: Source{Width: 1280, Height: 720, FPS: 60, HasAudio: true},
			},
			want: concat(argsHead, []string{
				"-filter_complex", "[0:v:0]scale=1280:720:flags=bilinear,split=2[v0][c0];[c0]scale=256:144:flags=area[v1]",
				"-map", "[v0]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
				"-b:v", "2800000", "-maxrate", "3080000", "-bufsize", "6160000",
				"-g", "120", "-keyint_min", "120", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:3",
				"-map", "[v1]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
				"-b:v", "200000", "-maxrate", "220000", "-bufsize", "440000",
				"-g", "120", "-keyint_min", "120", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*2)",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:4",
				"-progress", "pipe:5",
			}),
		},
		{
			name: "passthrough on, 29.97 fps, 4 s segments",
			p: ArgsParams{
				Rungs:           []Rung{{Name: "1080p", Width: 1920, Height: 1080, Passthrough: true}, {Name: "480p", Width: 854, Height: 480, VideoBitrate: 1_200_000}},
				Source:          Source{Width: 1920, Height: 1080, FPS: 29.97, HasAudio: true},
				SegmentDuration: 4 * time.Second,
			},
			want: concat(argsHead, []string{
				"-filter_complex", "[0:v:0]scale=854:480:flags=area[v0]",
				"-map", "0:v:0", "-map", "0:a:0?", "-c:v", "copy",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:3",
				"-map", "[v0]", "-map", "0:a:0?",
				"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
				"-b:v", "1200000", "-maxrate", "1320000", "-bufsize", "5280000",
				"-g", "120", "-keyint_min", "120", "-sc_threshold", "0", "-bf", "0",
				"-x264-params", "scenecut=0:open-gop=0", "-force_key_frames", "expr:gte(t,n_forced*4)",
				"-c:a", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:4",
				"-progress", "pipe:5",
			}),
		},
		{
			name: "passthrough only: no filter graph",
			p: ArgsParams{
				Rungs:  []Rung{{Name: "96p", Width: 128, Height: 96, Passthrough: true}},
				Source: Source{Width: 128, Height: 96, FPS: 30},
			},
			want: concat(argsHead, []string{
				"-map", "0:v:0", "-c:v", "copy", "-f", "mp4", "-movflags", testMovflags, "pipe:3",
				"-progress", "pipe:4",
			}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BuildArgs(tc.p)
			if err != nil {
				t.Fatalf("BuildArgs: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("BuildArgs mismatch\n got: %q\nwant: %q", got, tc.want)
			}
		})
	}
}

func TestBuildArgsErrors(t *testing.T) {
	good := Source{Width: 1280, Height: 720, FPS: 30}
	rung := Rung{Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000}
	tests := []struct {
		name string
		p    ArgsParams
		want error
	}{
		{"no rungs", ArgsParams{Source: good}, ErrBadLadder},
		{"bad source", ArgsParams{Rungs: []Rung{rung}, Source: Source{Width: 1, Height: 1}}, ErrBadSource},
		{"unplanned rung", ArgsParams{Rungs: []Rung{{Name: "x", Height: 144, VideoBitrate: 1}}, Source: good}, ErrBadLadder},
		{"odd width", ArgsParams{Rungs: []Rung{{Name: "x", Width: 255, Height: 144, VideoBitrate: 1}}, Source: good}, ErrBadLadder},
		{"tiny segment", ArgsParams{Rungs: []Rung{rung}, Source: good, SegmentDuration: time.Millisecond}, ErrBadParams},
		{"preset injection", ArgsParams{Rungs: []Rung{rung}, Source: good, Preset: "fast:x=1"}, ErrBadParams},
		{"negative threads", ArgsParams{Rungs: []Rung{rung}, Source: good, Threads: -1}, ErrBadParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := BuildArgs(tc.p); !errors.Is(err, tc.want) {
				t.Fatalf("BuildArgs error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestGOPFrames(t *testing.T) {
	tests := []struct {
		seg  time.Duration
		fps  float64
		want int
	}{
		{2 * time.Second, 30, 60},
		{2 * time.Second, 60, 120},
		{2 * time.Second, 29.97, 60},
		{2 * time.Second, 23.976, 48},
		{time.Second, 0.1, 1},
	}
	for _, tc := range tests {
		if got := GOPFrames(tc.seg, tc.fps); got != tc.want {
			t.Errorf("GOPFrames(%v, %v) = %d, want %d", tc.seg, tc.fps, got, tc.want)
		}
	}
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestArgsHaveNoShellQuoting(t *testing.T) {
	args, err := BuildArgs(ArgsParams{Rungs: []Rung{{Name: "a", Width: 256, Height: 144, VideoBitrate: 1000}}, Source: Source{Width: 256, Height: 144, FPS: 30}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range args {
		if strings.ContainsAny(a, `"'`) {
			t.Errorf("argument %q carries shell quoting", a)
		}
	}
}

// TestFilterGraphCascade: the cascade runs tallest first whatever the rung
// order, and each rung keeps its own output label.
func TestFilterGraphCascade(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rungs []Rung
		src   int
		want  string
	}{
		{"ascending ladder", []Rung{{Name: "144p", Width: 256, Height: 144}, {Name: "720p", Width: 1280, Height: 720}},
			720, "[0:v:0]scale=1280:720:flags=bilinear,split=2[v1][c0];[c0]scale=256:144:flags=area[v0]"},
		{"passthrough rungs take no scaler", []Rung{{Name: "1080p", Passthrough: true}, {Name: "720p", Width: 1280, Height: 720}},
			1080, "[0:v:0]scale=1280:720:flags=bilinear[v0]"},
		{"nothing to encode", []Rung{{Name: "1080p", Passthrough: true}}, 1080, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := filterGraph(tc.rungs, tc.src); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
