package transcode

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counterValue reads a counter or gauge (testutil would add a module to go.sum).
func counterValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// checkEpoch asserts the shape of one epoch's outputs: per rendition one
// init first, then fragments indexed 0.., contiguous, 2 s long except the
// last, starting at the same times in every rendition. It returns the
// number of fragments per rendition.
func checkEpoch(t *testing.T, c *collector, epoch int, rungs []Rung, codecs *regexp.Regexp) int {
	t.Helper()
	got := c.byRendition(epoch)
	if len(got) != len(rungs) {
		t.Fatalf("epoch %d: outputs for %d renditions, want %d", epoch, len(got), len(rungs))
	}
	var starts []time.Duration
	for ri, r := range rungs {
		outs := got[r.Name]
		if len(outs) < 2 {
			t.Fatalf("epoch %d %s: %d outputs, want an init and fragments", epoch, r.Name, len(outs))
		}
		init := outs[0]
		if !init.Init || init.Index != -1 || len(init.Data) == 0 {
			t.Fatalf("epoch %d %s: first output is not an init: %+v", epoch, r.Name, init)
		}
		if !codecs.MatchString(init.Codecs) {
			t.Errorf("epoch %d %s: codecs %q do not match %s", epoch, r.Name, init.Codecs, codecs)
		}
		if init.Width != r.Width || init.Height != r.Height {
			t.Errorf("epoch %d %s: init says %dx%d, want %dx%d", epoch, r.Name, init.Width, init.Height, r.Width, r.Height)
		}
		frags := outs[1:]
		if ri > 0 && len(frags) != len(starts) {
			t.Fatalf("epoch %d %s: %d fragments, %s has %d", epoch, r.Name, len(frags), rungs[0].Name, len(starts))
		}
		for i, f := range frags {
			if f.Init || f.Index != i || f.Epoch != epoch || len(f.Data) == 0 {
				t.Fatalf("epoch %d %s: output %d is %+v", epoch, r.Name, i+1, f)
			}
			if i < len(frags)-1 && math.Abs(f.Duration.Seconds()-2) > 0.1 {
				t.Errorf("epoch %d %s: fragment %d lasts %v, want 2s±0.1s", epoch, r.Name, i, f.Duration)
			}
			if f.Duration <= 0 || f.Duration > 2100*time.Millisecond {
				t.Errorf("epoch %d %s: fragment %d lasts %v", epoch, r.Name, i, f.Duration)
			}
			if i > 0 {
				prev := frags[i-1]
				if d := f.Start - (prev.Start + prev.Duration); d < -time.Millisecond || d > time.Millisecond {
					t.Errorf("epoch %d %s: fragment %d starts at %v, previous ended at %v", epoch, r.Name, i, f.Start, prev.Start+prev.Duration)
				}
			}
			if ri == 0 {
				starts = append(starts, f.Start)
			} else if d := f.Start - starts[i]; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("epoch %d: fragment %d starts at %v in %s but %v in %s", epoch, i, f.Start, r.Name, starts[i], rungs[0].Name)
			}
		}
	}
	return len(starts)
}

func TestTranscodeLadder(t *testing.T) {
	src := Source{Width: 1280, Height: 720, FPS: 30, HasAudio: true}
	tags := loadTags(t, makeSource(t, 1280, 720, 30, 7, 60, true))
	rungs, err := Plan(DefaultLadder(), src, false)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	c := newCollector()
	tr := newTestTranscoder(t, Params{Stream: "ladder", Rungs: rungs, Source: src, LogDir: logDir, Metrics: m}, c)
	if tr.PID() == 0 {
		t.Fatal("PID() = 0 after Start")
	}
	feed(t, tr, tags)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if tr.PID() != 0 {
		t.Fatal("PID() != 0 after Close")
	}

	n := checkEpoch(t, c, 0, rungs, regexp.MustCompile(`^avc1\.[0-9a-f]{6},mp4a\.40\.2$`))
	if n != 4 { // 7 s in 2 s fragments: 2+2+2+1
		t.Errorf("got %d fragments per rendition, want 4", n)
	}
	if len(c.ends) != 1 || c.ends[0].epoch != 0 || c.ends[0].err != nil || c.ends[0].outputs != c.count() {
		t.Fatalf("OnEpochEnd calls %+v, want one (0, nil) after all %d outputs", c.ends, c.count())
	}
	if got := counterValue(t, m.fragments.WithLabelValues("ladder", "480p")); got != 4 {
		t.Errorf("fragments_total{480p} = %v, want 4", got)
	}
	if got := counterValue(t, m.stderrLines.WithLabelValues("ladder", "error")); got != 0 {
		t.Errorf("stderr error lines = %v, want 0", got)
	}
	log, err := os.ReadFile(filepath.Join(logDir, "ladder.ffmpeg.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "==== ") || !strings.Contains(string(log), "Stream mapping") {
		t.Errorf("ffmpeg log lacks the run header or ffmpeg's own output:\n%s", log)
	}
	if p := tr.LastProgress(); !p.End || p.Frame < 200 {
		t.Errorf("last progress %+v, want the final block of ~210 frames", p)
	}
	if err := tr.WriteTag(tags[0].tag(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteTag after Close = %v, want ErrClosed", err)
	}
}

func TestTranscodeVideoOnly(t *testing.T) {
	src := Source{Width: 320, Height: 180, FPS: 25}
	tags := loadTags(t, makeSource(t, 320, 180, 25, 3, 50, false))
	rungs := []Rung{{Name: "180p", Width: 320, Height: 180, VideoBitrate: 300_000}, {Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000}}
	c := newCollector()
	c.panicOnInit = true // a panicking consumer must not take the transcoder down
	tr := newTestTranscoder(t, Params{Rungs: rungs, Source: src}, c)
	feed(t, tr, tags)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	n := checkEpoch(t, c, 0, rungs, regexp.MustCompile(`^avc1\.[0-9a-f]{6}$`))
	if n != 2 { // 3 s: 2+1
		t.Errorf("got %d fragments per rendition, want 2", n)
	}
	if !c.panicked || len(c.ends) != 1 || c.ends[0].err != nil {
		t.Errorf("panicked=%v ends=%+v", c.panicked, c.ends)
	}
}

func TestTranscodeRestartAfterKill(t *testing.T) {
	src := Source{Width: 320, Height: 180, FPS: 30, HasAudio: true}
	tags := loadTags(t, makeSource(t, 320, 180, 30, 10, 60, true))
	rungs := []Rung{{Name: "180p", Width: 320, Height: 180, VideoBitrate: 300_000}, {Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000}}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	tr := newTestTranscoder(t, Params{Stream: "kill", Rungs: rungs, Source: src, Metrics: m}, c)
	if wait(t, c.started, "epoch 0 start") != 0 {
		t.Fatal("first epoch is not 0")
	}

	split := len(tags)
	for i, f := range tags {
		if f.ts >= 4500 {
			split = i
			break
		}
	}
	feed(t, tr, tags[:split]) // 0-4.5 s: ffmpeg can finish the 0-2 s fragment
	first := wait(t, c.fragment, "a fragment of epoch 0")
	if first.Epoch != 0 {
		t.Fatalf("first fragment from epoch %d", first.Epoch)
	}
	pid0 := tr.PID()
	if err := syscall.Kill(pid0, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	end := wait(t, c.ended, "OnEpochEnd(0)")
	if end.epoch != 0 || !errors.Is(end.err, ErrFFmpegExit) || !strings.Contains(end.err.Error(), "killed") {
		t.Fatalf("OnEpochEnd(%d, %v), want epoch 0 and a kill", end.epoch, end.err)
	}
	if e := wait(t, c.started, "epoch 1 start"); e != 1 {
		t.Fatalf("started epoch %d, want 1", e)
	}
	if pid1 := tr.PID(); pid1 == 0 || pid1 == pid0 {
		t.Fatalf("PID after restart = %d (was %d)", pid1, pid0)
	}
	feed(t, tr, tags[split:]) // 4.5-10 s: dropped up to the 6 s keyframe
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	end = wait(t, c.ended, "OnEpochEnd(1)")
	if end.epoch != 1 || end.err != nil {
		t.Fatalf("OnEpochEnd(%d, %v), want (1, nil)", end.epoch, end.err)
	}
	if n := checkEpoch(t, c, 1, rungs, regexp.MustCompile(`^avc1\.[0-9a-f]{6},mp4a\.40\.2$`)); n != 2 { // 6-10 s
		t.Errorf("epoch 1: %d fragments per rendition, want 2", n)
	}
	if got := c.byRendition(1)["180p"][1].Start; got > 100*time.Millisecond {
		t.Errorf("epoch 1 starts at %v; a new run should start near 0", got)
	}
	if tr.DroppedTags() == 0 {
		t.Error("no tags dropped between the kill and the next keyframe")
	}
	if got := counterValue(t, m.restarts.WithLabelValues("kill")); got != 1 {
		t.Errorf("restarts_total = %v, want 1", got)
	}
}

func TestNewFFmpegNotFound(t *testing.T) {
	base := Params{
		Stream: "x", LogDir: t.TempDir(), Source: Source{Width: 256, Height: 144, FPS: 30},
		Rungs: []Rung{{Name: "144p", Width: 256, Height: 144, VideoBitrate: 100_000}},
	}
	missing := base
	missing.FFmpegPath = filepath.Join(t.TempDir(), "no-ffmpeg-here")
	if _, err := New(missing); !errors.Is(err, ErrFFmpegNotFound) || !strings.Contains(err.Error(), "no-ffmpeg-here") {
		t.Fatalf("New with a missing path: %v, want ErrFFmpegNotFound naming the path", err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := New(base); !errors.Is(err, ErrFFmpegNotFound) {
		t.Fatalf("New without ffmpeg in PATH: %v, want ErrFFmpegNotFound", err)
	}
}

func TestNewBadParams(t *testing.T) {
	good := Params{
		Stream: "x", LogDir: t.TempDir(), Source: Source{Width: 256, Height: 144, FPS: 30},
		Rungs: []Rung{{Name: "144p", Width: 256, Height: 144, VideoBitrate: 100_000}},
	}
	tests := []struct {
		name   string
		mutate func(*Params)
		want   error
	}{
		{"stream with a slash", func(p *Params) { p.Stream = "../etc" }, ErrBadParams},
		{"no stream", func(p *Params) { p.Stream = "" }, ErrBadParams},
		{"no log dir", func(p *Params) { p.LogDir = "" }, ErrBadParams},
		{"backoff upside down", func(p *Params) { p.MinBackoff, p.MaxBackoff = time.Second, time.Millisecond }, ErrBadParams},
		{"no rungs", func(p *Params) { p.Rungs = nil }, ErrBadLadder},
		{"bad source", func(p *Params) { p.Source.FPS = 0 }, ErrBadSource},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			tc.mutate(&p)
			if _, err := New(p); !errors.Is(err, tc.want) {
				t.Fatalf("New: %v, want %v", err, tc.want)
			}
		})
	}
}
