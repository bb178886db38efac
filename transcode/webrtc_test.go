package transcode

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

func TestWebRTCRungFor(t *testing.T) {
	enc := func(name string, w, h int) Rung {
		return Rung{Name: name, Width: w, Height: h, VideoBitrate: 1_000_000}
	}
	pass := func(name string, w, h int) Rung { return Rung{Name: name, Width: w, Height: h, Passthrough: true} }
	r1080, r720, r480, r144 := enc("1080p", 1920, 1080), enc("720p", 1280, 720), enc("480p", 854, 480), enc("144p", 256, 144)
	tests := []struct {
		name    string
		rungs   []Rung
		rung    string
		want    Rung
		wantErr error
	}{
		{"1080/720/480/144: 720", []Rung{r1080, r720, r480, r144}, "", r720, nil},
		{"1080/480/144: 480", []Rung{r1080, r480, r144}, "", r480, nil},
		{"only 144: 144", []Rung{r144}, "", r144, nil},
		{"ascending order: still the tallest up to 720", []Rung{r144, r480, r720, r1080}, "", r720, nil},
		{"first of equal heights", []Rung{r1080, enc("720a", 1280, 720), r720}, "", enc("720a", 1280, 720), nil},
		{"nothing up to 720: the shortest encoded", []Rung{enc("2160p", 3840, 2160), r1080}, "", r1080, nil},
		{"passthrough up to 720 and tallest: the passthrough rung", []Rung{pass("480p", 854, 480), r144}, "", pass("480p", 854, 480), nil},
		{"passthrough over 720 is not a default", []Rung{pass("1080p", 1920, 1080), r480, r144}, "", r480, nil},
		{"encoded before passthrough of the same height", []Rung{pass("720p", 1280, 720), r720, r144}, "", r720, nil},
		{"passthrough only: the passthrough rung, evened", []Rung{pass("721p", 1281, 721)}, "", pass("721p", 1280, 720), nil},
		{"explicit rung", []Rung{r1080, r720, r480, r144}, "144p", r144, nil},
		{"explicit passthrough rung", []Rung{pass("1080p", 1920, 1080), r480}, "1080p", pass("1080p", 1920, 1080), nil},
		{"unknown rung", []Rung{r1080, r720}, "360p", Rung{}, ErrBadParams},
		{"no rungs", nil, "", Rung{}, ErrBadLadder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := WebRTCRungFor(tc.rungs, tc.rung)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// webrtcVideoArgs are the WebRTC video output's arguments.
func webrtcVideoArgs(preset, level, bitrate, maxrate, bufsize, gop string, extra []string, ssrc, url string) []string {
	return concat([]string{
		"-map", "[w0]",
		"-c:v", "libx264", "-preset", preset, "-tune", "zerolatency",
		"-profile:v", "baseline", "-level:v", level, "-pix_fmt", "yuv420p",
		"-b:v", bitrate, "-maxrate", maxrate, "-bufsize", bufsize,
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-bf", "0",
		"-x264-params", "scenecut=0:open-gop=0:repeat-headers=1",
		"-force_key_frames", "expr:gte(t,n_forced*1)",
	}, extra, []string{
		"-f", "rtp", "-payload_type", "96", "-ssrc", ssrc,
		"-rtpflags", "skip_rtcp", "-flush_packets", "1", "-max_delay", "0", "-muxdelay", "0",
		url,
	})
}

// webrtcLowArgs are the low video layer's arguments: the same encoder
// reading [w1].
func webrtcLowArgs(level, bitrate, maxrate, bufsize, gop, ssrc, url string) []string {
	a := webrtcVideoArgs("veryfast", level, bitrate, maxrate, bufsize, gop, nil, ssrc, url)
	a[1] = "[w1]"
	return a
}

// webrtcAudioArgs are the WebRTC audio output's arguments.
func webrtcAudioArgs(ssrc, url string) []string {
	return []string{
		"-map", "0:a:0",
		"-af", "aresample=async=1",
		"-c:a", "libopus", "-ar", "48000", "-ac", "2", "-b:a", "96000", "-application", "lowdelay",
		"-f", "rtp", "-payload_type", "111", "-ssrc", ssrc,
		"-rtpflags", "skip_rtcp", "-flush_packets", "1", "-max_delay", "0", "-muxdelay", "0",
		url,
	}
}

// TestBuildArgsWebRTCDefaultLadder pins the whole argv of the default ladder
// with the WebRTC outputs.
func TestBuildArgsWebRTCDefaultLadder(t *testing.T) {
	src := Source{Width: 1920, Height: 1080, FPS: 30, HasAudio: true}
	rungs, err := Plan(DefaultLadder(), src, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := BuildArgs(ArgsParams{Rungs: rungs, Source: src, WebRTC: &WebRTCOutput{
		VideoAddr: "127.0.0.1:40000", AudioAddr: "127.0.0.1:40002", VideoSSRC: 1111, AudioSSRC: 2222,
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := concat(webrtcHead, []string{
		"-filter_complex", "[0:v:0]scale=1920:1080:flags=bilinear,split=2[v0][c0];[c0]scale=1280:720:flags=bilinear,split=3[v1][w0][c1];[c1]scale=854:480:flags=bilinear,split=2[v2][c2];[c2]scale=256:144:flags=area[v3]",
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
		"-map", "[w0]",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
		"-profile:v", "baseline", "-level:v", "3.1", "-pix_fmt", "yuv420p",
		"-b:v", "2800000", "-maxrate", "3080000", "-bufsize", "1540000",
		"-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0",
		"-x264-params", "scenecut=0:open-gop=0:repeat-headers=1", "-force_key_frames", "expr:gte(t,n_forced*1)",
		"-f", "rtp", "-payload_type", "96", "-ssrc", "1111",
		"-rtpflags", "skip_rtcp", "-flush_packets", "1", "-max_delay", "0", "-muxdelay", "0",
		"rtp://127.0.0.1:40000?pkt_size=1200",
		"-map", "0:a:0",
		"-af", "aresample=async=1",
		"-c:a", "libopus", "-ar", "48000", "-ac", "2", "-b:a", "96000", "-application", "lowdelay",
		"-f", "rtp", "-payload_type", "111", "-ssrc", "2222",
		"-rtpflags", "skip_rtcp", "-flush_packets", "1", "-max_delay", "0", "-muxdelay", "0",
		"rtp://127.0.0.1:40002?pkt_size=1200",
		"-progress", "pipe:7",
	})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("BuildArgs mismatch\n got: %q\nwant: %q", got, want)
	}
}

// lowDelayInput are the input options the low-latency output adds.
var lowDelayInput = []string{"-flags", "low_delay", "-thread_type", "slice"}

// webrtcHead is argsHead with them.
var webrtcHead = concat(argsHead[:4], lowDelayInput, argsHead[4:])

// TestBuildArgsWebRTC: with WebRTC set, the argv is the one without it
// except for the filter graph, plus the WebRTC outputs before -progress.
func TestBuildArgsWebRTC(t *testing.T) {
	enc := func(name string, w, h, br int) Rung { return Rung{Name: name, Width: w, Height: h, VideoBitrate: br} }
	pass := func(name string, w, h int) Rung { return Rung{Name: name, Width: w, Height: h, Passthrough: true} }
	r1080, r720 := enc("1080p", 1920, 1080, 5_000_000), enc("720p", 1280, 720, 2_800_000)
	r480, r144 := enc("480p", 854, 480, 1_200_000), enc("144p", 256, 144, 200_000)
	lo := WebRTCOutput{VideoAddr: "127.0.0.1:40000", AudioAddr: "127.0.0.1:40002", VideoSSRC: 1, AudioSSRC: 2}
	with := func(mut func(*WebRTCOutput)) *WebRTCOutput {
		w := lo
		mut(&w)
		return &w
	}
	video := "rtp://127.0.0.1:40000?pkt_size=1200"
	audio := webrtcAudioArgs("2", "rtp://127.0.0.1:40002?pkt_size=1200")
	tests := []struct {
		name  string
		p     ArgsParams
		graph string   // the filter graph with the tap; "" when there is none
		tail  []string // the WebRTC outputs
	}{
		{
			name:  "1080/480/144, video-only source: 480p, no audio output, audio address ignored",
			p:     ArgsParams{Rungs: []Rung{r1080, r480, r144}, Source: Source{Width: 1920, Height: 1080, FPS: 30}, WebRTC: with(func(w *WebRTCOutput) { w.AudioAddr, w.AudioSSRC = "10.0.0.1:1", 0 })},
			graph: "[0:v:0]scale=1920:1080:flags=bilinear,split=2[v0][c0];[c0]scale=854:480:flags=area,split=3[v1][w0][c1];[c1]scale=256:144:flags=area[v2]",
			tail:  webrtcVideoArgs("veryfast", "3.1", "1200000", "1320000", "660000", "30", nil, "1", video),
		},
		{
			name: "480p with a low layer: the tap is split again and scaled to 426x240 at a quarter of the bitrate",
			p: ArgsParams{Rungs: []Rung{r1080, r480, r144}, Source: Source{Width: 1920, Height: 1080, FPS: 30, HasAudio: true},
				WebRTC: with(func(w *WebRTCOutput) { w.LowAddr, w.LowSSRC = "127.0.0.1:40004", 3 })},
			graph: "[0:v:0]scale=1920:1080:flags=bilinear,split=2[v0][c0];[c0]scale=854:480:flags=area,split=3[v1][wt][c1];[c1]scale=256:144:flags=area[v2];[wt]split=2[w0][wl];[wl]scale=426:240:flags=area[w1]",
			tail: concat(webrtcVideoArgs("veryfast", "3.1", "1200000", "1320000", "660000", "30", nil, "1", video),
				webrtcLowArgs("3.1", "300000", "330000", "165000", "30", "3", "rtp://127.0.0.1:40004?pkt_size=1200"), audio),
		},
		{
			name:  "144p asked for a low layer: too small, none is made",
			p:     ArgsParams{Rungs: []Rung{r144}, Source: Source{Width: 256, Height: 144, FPS: 30, HasAudio: true}, WebRTC: with(func(w *WebRTCOutput) { w.LowAddr, w.LowSSRC = "127.0.0.1:40004", 3 })},
			graph: "[0:v:0]scale=256:144:flags=bilinear,split=2[v0][w0]",
			tail:  concat(webrtcVideoArgs("veryfast", "3.1", "200000", "220000", "110000", "30", nil, "1", video), audio),
		},
		{
			name: "passthrough rung with a low layer: 960x540 from the tap's own chain, scaled from the tapped chain",
			p: ArgsParams{
				Rungs: []Rung{pass("1080p", 1920, 1080), r480}, Source: Source{Width: 1920, Height: 1080, FPS: 30, HasAudio: true},
				WebRTC: with(func(w *WebRTCOutput) {
					w.Rung, w.Bitrate, w.LowAddr, w.LowSSRC = "1080p", 3_000_000, "127.0.0.1:40004", 3
				}),
			},
			graph: "[0:v:0]scale=854:480:flags=area[v0];[0:v:0]scale=1920:1080:flags=bilinear[wt];[wt]split=2[w0][wl];[wl]scale=960:540:flags=area[w1]",
			tail: concat(webrtcVideoArgs("veryfast", "4.0", "3000000", "3300000", "1650000", "30", nil, "1", video),
				webrtcLowArgs("3.1", "750000", "825000", "412500", "30", "3", "rtp://127.0.0.1:40004?pkt_size=1200"), audio),
		},
		{
			name:  "only 144p, 25 fps, with audio: the last rung gets a split",
			p:     ArgsParams{Rungs: []Rung{r144}, Source: Source{Width: 256, Height: 144, FPS: 25, HasAudio: true}, WebRTC: &lo},
			graph: "[0:v:0]scale=256:144:flags=bilinear,split=2[v0][w0]",
			tail:  concat(webrtcVideoArgs("veryfast", "3.1", "200000", "220000", "110000", "25", nil, "1", video), audio),
		},
		{
			name:  "ascending ladder: the tap follows the rung, not its position",
			p:     ArgsParams{Rungs: []Rung{r144, r480}, Source: Source{Width: 854, Height: 480, FPS: 30, HasAudio: true}, WebRTC: &lo},
			graph: "[0:v:0]scale=854:480:flags=bilinear,split=3[v1][w0][c0];[c0]scale=256:144:flags=area[v0]",
			tail:  concat(webrtcVideoArgs("veryfast", "3.1", "1200000", "1320000", "660000", "30", nil, "1", video), audio),
		},
		{
			name: "explicit 1080p60 rung and bitrate, IPv6 loopback, high SSRCs, ultrafast, 2 threads",
			p: ArgsParams{
				Rungs: []Rung{r1080, r720}, Source: Source{Width: 1920, Height: 1080, FPS: 60, HasAudio: true},
				Preset: "ultrafast", Threads: 2,
				WebRTC: &WebRTCOutput{Rung: "1080p", Bitrate: 4_000_000, VideoAddr: "[::1]:5004", AudioAddr: "[::ffff:127.0.0.2]:5006", VideoSSRC: 0xCAFEBABE, AudioSSRC: 0xFFFFFFFF},
			},
			graph: "[0:v:0]scale=1920:1080:flags=bilinear,split=3[v0][w0][c0];[c0]scale=1280:720:flags=bilinear[v1]",
			tail: concat(
				webrtcVideoArgs("ultrafast", "4.2", "4000000", "4400000", "2200000", "60", []string{"-threads", "2"}, "-889275714", "rtp://[::1]:5004?pkt_size=1200"),
				webrtcAudioArgs("-1", "rtp://127.0.0.2:5006?pkt_size=1200"),
			),
		},
		{
			name: "passthrough rung chosen: the source scaled by a chain of its own",
			p: ArgsParams{
				Rungs: []Rung{pass("1080p", 1920, 1080), r480}, Source: Source{Width: 1920, Height: 1080, FPS: 30, HasAudio: true},
				WebRTC: with(func(w *WebRTCOutput) { w.Rung, w.Bitrate = "1080p", 3_000_000 }),
			},
			graph: "[0:v:0]scale=854:480:flags=area[v0];[0:v:0]scale=1920:1080:flags=bilinear[w0]",
			tail:  concat(webrtcVideoArgs("veryfast", "4.0", "3000000", "3300000", "1650000", "30", nil, "1", video), audio),
		},
		{
			name: "passthrough only, odd source: a filter graph appears, rounded down to even",
			p: ArgsParams{
				Rungs: []Rung{pass("721p", 1281, 721)}, Source: Source{Width: 1281, Height: 721, FPS: 30},
				WebRTC: with(func(w *WebRTCOutput) { w.Bitrate = 2_000_000 }),
			},
			graph: "[0:v:0]scale=1280:720:flags=bilinear[w0]",
			tail:  webrtcVideoArgs("veryfast", "3.1", "2000000", "2200000", "1100000", "30", nil, "1", video),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plain := tc.p
			plain.WebRTC = nil
			base, err := BuildArgs(plain)
			if err != nil {
				t.Fatalf("BuildArgs without WebRTC: %v", err)
			}
			want := slices.Clone(base)
			if i := slices.Index(want, "-filter_complex"); i >= 0 {
				want[i+1] = tc.graph
			} else {
				want = slices.Insert(want, len(argsHead), "-filter_complex", tc.graph)
			}
			want = slices.Insert(want, len(want)-2, tc.tail...) // before -progress pipe:N
			want = slices.Insert(want, 4, lowDelayInput...)     // after -loglevel
			got, err := BuildArgs(tc.p)
			if err != nil {
				t.Fatalf("BuildArgs: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("BuildArgs mismatch\n got: %q\nwant: %q", got, want)
			}
		})
	}
}

func TestBuildArgsWebRTCErrors(t *testing.T) {
	rungs := []Rung{{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 2_800_000}, {Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000}}
	av := Source{Width: 1280, Height: 720, FPS: 30, HasAudio: true}
	good := WebRTCOutput{VideoAddr: "127.0.0.1:40000", AudioAddr: "127.0.0.1:40002", VideoSSRC: 1, AudioSSRC: 2}
	tests := []struct {
		name  string
		rungs []Rung
		mut   func(*WebRTCOutput)
		want  error
	}{
		{"video on a LAN address", rungs, func(w *WebRTCOutput) { w.VideoAddr = "192.168.1.2:40000" }, ErrBadParams},
		{"video on the wildcard address", rungs, func(w *WebRTCOutput) { w.VideoAddr = "0.0.0.0:40000" }, ErrBadParams},
		{"audio on a public IPv6 address", rungs, func(w *WebRTCOutput) { w.AudioAddr = "[2001:db8::1]:40002" }, ErrBadParams},
		{"host name instead of an IP", rungs, func(w *WebRTCOutput) { w.VideoAddr = "localhost:40000" }, ErrBadParams},
		{"IPv6 with a zone", rungs, func(w *WebRTCOutput) { w.VideoAddr = "[::1%lo]:40000" }, ErrBadParams},
		{"no port", rungs, func(w *WebRTCOutput) { w.VideoAddr = "127.0.0.1" }, ErrBadParams},
		{"port 0", rungs, func(w *WebRTCOutput) { w.VideoAddr = "127.0.0.1:0" }, ErrBadParams},
		{"port out of range", rungs, func(w *WebRTCOutput) { w.VideoAddr = "127.0.0.1:65536" }, ErrBadParams},
		{"URL options smuggled in the port", rungs, func(w *WebRTCOutput) { w.VideoAddr = "127.0.0.1:4000?ttl=9" }, ErrBadParams},
		{"empty audio address with audio", rungs, func(w *WebRTCOutput) { w.AudioAddr = "" }, ErrBadParams},
		{"zero video SSRC", rungs, func(w *WebRTCOutput) { w.VideoSSRC = 0 }, ErrBadParams},
		{"zero audio SSRC with audio", rungs, func(w *WebRTCOutput) { w.AudioSSRC = 0 }, ErrBadParams},
		{"audio and video share an SSRC", rungs, func(w *WebRTCOutput) { w.AudioSSRC = w.VideoSSRC }, ErrBadParams},
		{"unknown rung", rungs, func(w *WebRTCOutput) { w.Rung = "1080p" }, ErrBadParams},
		{"negative bitrate", rungs, func(w *WebRTCOutput) { w.Bitrate = -1 }, ErrBadParams},
		{"passthrough rung without a bitrate", []Rung{{Name: "720p", Width: 1280, Height: 720, Passthrough: true}}, func(*WebRTCOutput) {}, ErrBadParams},
		{"bitrate beyond every level", rungs, func(w *WebRTCOutput) { w.Bitrate = 500_000_000 }, ErrBadParams},
		{"low layer without an SSRC", rungs, func(w *WebRTCOutput) { w.LowAddr = "127.0.0.1:40004" }, ErrBadParams},
		{"low layer shares the video SSRC", rungs, func(w *WebRTCOutput) { w.LowAddr, w.LowSSRC = "127.0.0.1:40004", w.VideoSSRC }, ErrBadParams},
		{"low layer shares the audio SSRC", rungs, func(w *WebRTCOutput) { w.LowAddr, w.LowSSRC = "127.0.0.1:40004", w.AudioSSRC }, ErrBadParams},
		{"low layer off loopback", rungs, func(w *WebRTCOutput) { w.LowAddr, w.LowSSRC = "10.1.1.1:40004", 3 }, ErrBadParams},
		{"passthrough rung without a size", []Rung{{Name: "src", Passthrough: true}}, func(w *WebRTCOutput) { w.Bitrate = 1_000_000 }, ErrBadLadder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := good
			tc.mut(&w)
			if _, err := BuildArgs(ArgsParams{Rungs: tc.rungs, Source: av, WebRTC: &w}); !errors.Is(err, tc.want) {
				t.Fatalf("BuildArgs error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestWebRTCLowLayerFor(t *testing.T) {
	for _, tc := range []struct {
		w, h, br    int
		lw, lh, lbr int
		ok          bool
	}{
		{1280, 720, 2_800_000, 640, 360, 700_000, true},
		{854, 480, 1_200_000, 426, 240, 300_000, true},
		{512, 288, 400_000, 256, 144, 150_000, true}, // the bitrate floor
		{510, 286, 400_000, 0, 0, 0, false},
		{256, 144, 200_000, 0, 0, 0, false},
	} {
		lw, lh, lbr, ok := WebRTCLowLayerFor(tc.w, tc.h, tc.br)
		if lw != tc.lw || lh != tc.lh || lbr != tc.lbr || ok != tc.ok {
			t.Errorf("WebRTCLowLayerFor(%d, %d, %d) = %d, %d, %d, %v; want %d, %d, %d, %v",
				tc.w, tc.h, tc.br, lw, lh, lbr, ok, tc.lw, tc.lh, tc.lbr, tc.ok)
		}
	}
}

func TestH264Level(t *testing.T) {
	tests := []struct {
		w, h    int
		fps     float64
		maxrate int
		want    string
	}{
		{256, 144, 30, 220_000, "3.1"},
		{1280, 720, 30, 3_080_000, "3.1"},
		{1280, 720, 30.01, 3_080_000, "3.2"},
		{1280, 720, 60, 3_080_000, "3.2"},
		{854, 480, 30, 15_000_000, "3.2"}, // the bitrate, not the size, sets it
		{1920, 1080, 30, 5_500_000, "4.0"},
		{1920, 1080, 30, 25_000_000, "4.1"},
		{1920, 1080, 60, 5_500_000, "4.2"},
		{3840, 2160, 30, 20_000_000, "5.1"},
		{3840, 2160, 60, 20_000_000, "5.2"},
		{4096, 16, 30, 100_000, "4.0"}, // 256 MBs wide: 256² ≤ 8·MaxFS from level 4.0
	}
	for _, tc := range tests {
		got, err := h264Level(tc.w, tc.h, tc.fps, tc.maxrate)
		if err != nil || got != tc.want {
			t.Errorf("h264Level(%d, %d, %v, %d) = %q, %v; want %q", tc.w, tc.h, tc.fps, tc.maxrate, got, err, tc.want)
		}
	}
	if _, err := h264Level(7680, 4320, 30, 1_000_000); !errors.Is(err, ErrBadParams) {
		t.Errorf("8K: error %v, want ErrBadParams", err)
	}
}

// TestNewWebRTC: the transcoder passes its WebRTC parameters to BuildArgs.
func TestNewWebRTC(t *testing.T) {
	p := Params{
		Stream: "x", LogDir: t.TempDir(), Source: Source{Width: 256, Height: 144, FPS: 30},
		Rungs:  []Rung{{Name: "144p", Width: 256, Height: 144, VideoBitrate: 100_000}},
		WebRTC: &WebRTCOutput{VideoAddr: "127.0.0.1:5004", VideoSSRC: 7},
	}
	tr, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := BuildArgs(ArgsParams{Rungs: p.Rungs, Source: p.Source, WebRTC: p.WebRTC})
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Args(); !reflect.DeepEqual(got, want) || !slices.Contains(got, "rtp://127.0.0.1:5004?pkt_size=1200") {
		t.Fatalf("Args() = %q, want %q", got, want)
	}
	p.WebRTC = &WebRTCOutput{VideoAddr: "203.0.113.7:5004", VideoSSRC: 7}
	if _, err := New(p); !errors.Is(err, ErrBadParams) {
		t.Fatalf("New with a public RTP address: %v, want ErrBadParams", err)
	}
}
