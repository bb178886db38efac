package transcode

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

const progressSample = `frame=211
fps=0.00
stream_0_0_q=-1.0
stream_1_0_q=-1.0
bitrate=1115.8kbits/s
total_size=981831
out_time_us=7039333
out_time_ms=7039333
out_time=00:00:07.039333
dup_frames=2
drop_frames=1
speed=  14x
progress=continue
frame=0
fps=0.00
bitrate=N/A
total_size=N/A
out_time_us=N/A
out_time_ms=N/A
out_time=N/A
dup_frames=0
drop_frames=0
speed=N/A
progress=continue
frame=300
fps=29.97
out_time_us=10000000
speed=0.987x
progress=end
`

func TestParseProgress(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Progress
		wantErr error
	}{
		{"ffmpeg 5.1 blocks", progressSample, []Progress{
			{Frame: 211, OutTime: 7039333 * time.Microsecond, Speed: 14, SpeedKnown: true, DupFrames: 2, DropFrames: 1, TotalSize: 981831},
			{TotalSize: -1},
			{Frame: 300, FPS: 29.97, OutTime: 10 * time.Second, Speed: 0.987, SpeedKnown: true, TotalSize: -1, End: true},
		}, nil},
		{"CRLF and spaces", "frame = 5\r\nspeed=1.5x\r\nprogress=continue\r\n", []Progress{
			{Frame: 5, Speed: 1.5, SpeedKnown: true, TotalSize: -1},
		}, nil},
		{"incomplete block is not reported", "frame=5\nspeed=1x\n", nil, nil},
		{"negative and garbage values ignored", "frame=-3\nfps=nan\nout_time_us=-5\nspeed=-2x\ndup_frames=x\nprogress=continue\n", []Progress{
			{TotalSize: -1},
		}, nil},
		{"empty lines skipped", "\n\nframe=1\n\nprogress=continue\n", []Progress{{Frame: 1, TotalSize: -1}}, nil},
		{"not key=value", "frame=1\nhello\n", nil, ErrProgress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []Progress
			err := ParseProgress(strings.NewReader(tc.in), func(p Progress) { got = append(got, p) })
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseProgress(f *testing.F) {
	f.Add([]byte(progressSample))
	f.Add([]byte("speed=N/A\nprogress=end\n"))
	f.Add([]byte("out_time_us=9223372036854775807\nspeed=1e308x\nprogress=continue\n"))
	f.Add([]byte("=\n=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ParseProgress(strings.NewReader(string(data)), func(p Progress) {
			if p.Speed < 0 || math.IsNaN(p.Speed) || math.IsInf(p.Speed, 0) {
				t.Fatalf("bad speed %v", p.Speed)
			}
			if !p.SpeedKnown && p.Speed != 0 {
				t.Fatalf("unknown speed with value %v", p.Speed)
			}
			if p.FPS < 0 || math.IsNaN(p.FPS) || math.IsInf(p.FPS, 0) {
				t.Fatalf("bad fps %v", p.FPS)
			}
			if p.Frame < 0 || p.DupFrames < 0 || p.DropFrames < 0 || p.OutTime < 0 || p.TotalSize < -1 {
				t.Fatalf("negative field in %+v", p)
			}
		})
	})
}
