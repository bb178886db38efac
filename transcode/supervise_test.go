package transcode

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// captureHandler records slog records for assertions.
type captureHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

// find returns the first record at level with message msg.
func (h *captureHandler) find(level slog.Level, msg string) (slog.Record, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if r.Level == level && r.Message == msg {
			return r, true
		}
	}
	return slog.Record{}, false
}

func attr(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

var tinyRungs = []Rung{{Name: "144p", Width: 256, Height: 144, VideoBitrate: 100_000}}

func TestLifecycleErrors(t *testing.T) {
	tr, err := New(Params{Stream: "life", LogDir: t.TempDir(), Rungs: tinyRungs, Source: Source{Width: 256, Height: 144, FPS: 30}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	tag := videoTag(0, 1, 1, "x")
	if err := tr.WriteTag(tag); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("WriteTag before Start: %v", err)
	}
	ctx := context.Background()
	if err := tr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(ctx); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	if err := tr.WriteTag(nil); !errors.Is(err, ErrBadParams) {
		t.Fatalf("WriteTag(nil): %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := tr.Start(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	if err := tr.WriteTag(videoTag(0, 1, 1, "x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteTag after Close: %v", err)
	}
}

// A blocked consumer stalls ffmpeg, which stalls WriteTag (back-pressure);
// Close must still make WriteTag return at once.
func TestWriteTagUnblocksOnClose(t *testing.T) {
	src := Source{Width: 320, Height: 180, FPS: 30}
	tags := loadTags(t, makeSource(t, 320, 180, 30, 40, 60, false))
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	released := false
	release := func() {
		if !released {
			released = true
			close(gate)
		}
	}

	tr, err := New(Params{
		Stream: "stall", LogDir: t.TempDir(), Rungs: tinyRungs, Source: src, Preset: "ultrafast", CloseTimeout: 5 * time.Second,
		OnOutput: func(Output) {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-gate
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := tr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	t.Cleanup(release) // cleanups run last-first: release the consumer before Close

	fed := make(chan error, 1)
	go func() {
		for _, f := range tags {
			if err := tr.WriteTag(f.tag(f.ts)); err != nil {
				fed <- err
				return
			}
		}
		fed <- nil
	}()
	wait(t, entered, "the first output")
	closed := make(chan struct{})
	go func() {
		_ = tr.Close()
		close(closed)
	}()
	select {
	case err := <-fed:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("WriteTag returned %v, want ErrClosed (nil means 40 s of input never blocked)", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("WriteTag still blocked 3 s after Close")
	}
	release()
	wait(t, closed, "Close to return")
}

func TestRealFFmpegErrorIsExplainedAndRestarted(t *testing.T) {
	src := Source{Width: 320, Height: 180, FPS: 30}
	// ffmpeg opens its encoders only once probing is done, which takes
	// more than a second of input while stdin stays open.
	tags := loadTags(t, makeSource(t, 320, 180, 30, 6, 30, false))
	h := &captureHandler{}
	c := newCollector()
	tr := newTestTranscoder(t, Params{
		Stream: "badpreset", Rungs: tinyRungs, Source: src, Preset: "no-such-preset", Logger: slog.New(h),
	}, c)
	wait(t, c.started, "epoch 0 start")
	feed(t, tr, tags)
	end := wait(t, c.ended, "OnEpochEnd(0)")
	if end.epoch != 0 || !errors.Is(end.err, ErrFFmpegExit) || !strings.Contains(end.err.Error(), "last error:") {
		t.Fatalf("OnEpochEnd(%d, %v), want epoch 0 with ffmpeg's last error", end.epoch, end.err)
	}
	if e := wait(t, c.started, "epoch 1 start"); e != 1 {
		t.Fatalf("restarted as epoch %d", e)
	}
	rec, ok := h.find(slog.LevelError, "ffmpeg error")
	if !ok || attr(rec, "explanation") == "" || attr(rec, "line") == "" {
		t.Fatalf("no explained ffmpeg error logged (found=%v, %v)", ok, rec)
	}
	if _, ok := h.find(slog.LevelError, "ffmpeg died; restarting"); !ok {
		t.Fatal("the death of ffmpeg was not logged")
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestContextCancelStopsWithoutRestart(t *testing.T) {
	c := newCollector()
	tr, err := New(Params{
		Stream: "ctx", LogDir: t.TempDir(), Rungs: tinyRungs, Source: Source{Width: 256, Height: 144, FPS: 30},
		OnEpochStart: c.onEpochStart, OnEpochEnd: c.onEpochEnd, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := tr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	wait(t, c.started, "epoch 0 start")
	cancel()
	end := wait(t, c.ended, "OnEpochEnd(0)")
	if end.epoch != 0 || end.err == nil {
		t.Fatalf("OnEpochEnd(%d, %v), want (0, killed)", end.epoch, end.err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.started) != 0 {
		t.Fatalf("ffmpeg restarted after the context ended (epoch %d)", <-c.started)
	}
}
