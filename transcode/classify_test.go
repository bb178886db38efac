package transcode

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		line    string
		want    Class
		explain string // substring of the explanation; "" for Ignore
	}{
		{"[flv @ 0x55d0c8a0] [warning] Non-monotonous DTS in output stream 0:1; previous: 2000, current: 1000; changing to 2001. This may result in incorrect timestamps in the output file.", Explain, "source timestamps jump"},
		{"[mp4 @ 0x1] [warning] Non-monotonous DTS in output stream 1:0", Explain, "broadcaster's encoder or network"},
		{"[error] pipe:0: Invalid data found when processing input", Error, "corrupt or not FLV"},
		{"[error] Error while decoding stream #0:0: Invalid data found when processing input", Explain, "could not be decoded"},
		{"[warning] Past duration 0.999992 too large", Ignore, ""},
		{"[info] Past duration 0.603996 too large", Ignore, ""},
		{"[swscaler @ 0x2] [warning] deprecated pixel format used, make sure you did set range correctly", Ignore, ""},
		{"[h264 @ 0x3] [error] error while decoding MB 12 3, bytestream -5", Explain, "corrupt source video"},
		{"[h264 @ 0x3] [error] concealing 200 DC, 200 AC, 200 MV errors in P frame", Explain, "corrupt source video"},
		{"[flv @ 0x4] [warning] Thread message queue blocking; consider raising the thread_queue_size option (current value: 8)", Explain, "falling behind"},
		{"[fatal] Too many packets buffered for output stream 0:1.", Error, "muxing queue overflowed"},
		{"[error] Unknown encoder 'libx264'", Error, "lacks an encoder"},
		{"[fatal] Stream map '0:v:3' matches no streams.", Error, "lacks a stream"},
		{"[error] Conversion failed!", Error, "gave up"},
		{"[error] av_interleaved_write_frame(): Broken pipe", Error, "output pipe was closed"},
		{"[fatal] Unrecognized option 'frobnicate'.", Error, "rejected an argument"},
		{"[flv @ 0x5] [error] something nobody has seen before", Error, "ffmpeg reported an error"},
		{"[flv @ 0x5] [warning] a warning nobody has seen before", Ignore, ""},
		{"[info] Stream mapping:", Ignore, ""},
		{"[info]   Stream #0:0 (h264) -> split:default", Ignore, ""},
		{"", Ignore, ""},
		{"[flv @ 0x6] [info] Could not find codec parameters for stream 1 (Audio: aac, 0 channels): unspecified sample format", Explain, "no usable codec data"},
		{"[mp4 @ 0x7] [warning] Application provided invalid, non monotonically increasing dts to muxer in stream 0: 3 >= 3", Explain, "timestamps went backwards"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			got, why := Classify(tc.line)
			if got != tc.want {
				t.Fatalf("Classify(%q) = %v (%q), want %v", tc.line, got, why, tc.want)
			}
			if tc.want == Ignore {
				if why != "" {
					t.Fatalf("ignored line got explanation %q", why)
				}
				return
			}
			if why == "" || !strings.Contains(why, tc.explain) {
				t.Fatalf("explanation %q does not mention %q", why, tc.explain)
			}
		})
	}
}

func TestClassString(t *testing.T) {
	for c, want := range map[Class]string{Ignore: "ignore", Explain: "explain", Error: "error"} {
		if c.String() != want {
			t.Errorf("%d.String() = %q, want %q", c, c.String(), want)
		}
	}
}
