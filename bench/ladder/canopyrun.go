package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/canopylive/canopy/transcode"
)

// ErrRun means a transcoding run did not complete cleanly.
var ErrRun = errors.New("ladder bench: run failed")

// canopyCloseTimeout is how long Close may let ffmpeg flush: far longer than
// it needs, since a kill would void the measurement.
const canopyCloseTimeout = 2 * time.Minute

// outputCount tallies what OnOutput received.
type outputCount struct {
	mu        sync.Mutex
	inits     int
	fragments int
	bytes     int64
}

func (c *outputCount) add(o transcode.Output) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o.Init {
		c.inits++
	} else {
		c.fragments++
	}
	c.bytes += int64(len(o.Data))
}

// epochLog records the ffmpeg runs (epochs) of a Transcoder.
type epochLog struct {
	mu      sync.Mutex
	started int
	errs    []error
}

func (e *epochLog) start(int, int) {
	e.mu.Lock()
	e.started++
	e.mu.Unlock()
}

func (e *epochLog) end(epoch int, err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	e.errs = append(e.errs, fmt.Errorf("epoch %d: %w", epoch, err))
	e.mu.Unlock()
}

// runCanopy transcodes the in-memory FLV through a transcode.Transcoder:
// every tag decoded with go-flv and written with WriteTag as fast as it is
// accepted (back-pressure from ffmpeg's stdin is the only pacing). CPU is
// ffmpeg's (RUSAGE_CHILDREN) plus this process's (RUSAGE_SELF) over the run.
func runCanopy(ctx context.Context, b bench, n int) (result, error) {
	res := result{kind: "canopy", run: n}
	var out outputCount
	var epochs epochLog
	stream := fmt.Sprintf("bench-%d", n)
	logPath := filepath.Join(b.dir, stream+".ffmpeg.log") // where the transcoder appends ffmpeg's stderr
	tr, err := transcode.New(transcode.Params{
		FFmpegPath:      b.ffmpeg,
		Stream:          stream,
		Rungs:           b.ap.Rungs,
		Source:          b.ap.Source,
		SegmentDuration: b.ap.SegmentDuration,
		Preset:          b.ap.Preset,
		Threads:         b.ap.Threads,
		LogDir:          b.dir,
		Logger:          b.log,
		OnOutput:        out.add,
		OnEpochStart:    epochs.start,
		OnEpochEnd:      epochs.end,
		CloseTimeout:    canopyCloseTimeout,
	})
	if err != nil {
		return res, err
	}
	if !slices.Equal(tr.Args(), b.args) {
		return res, fmt.Errorf("%w: the transcoder's argv differs from BuildArgs'", ErrRun)
	}

	before, err := sampleUsage()
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := tr.Start(ctx); err != nil {
		return res, err
	}
	feedErr := decodeFLV(b.flv, tr.WriteTag)
	_ = tr.Close() // waits until ffmpeg was reaped and every output delivered
	res.wall = time.Since(start)
	after, err := sampleUsage()
	if err != nil {
		return res, err
	}
	used := after.sub(before)
	res.ffmpegCPU, res.goCPU, res.others = used.children, used.self, used.others()
	out.mu.Lock()
	res.inits, res.fragments, res.bytes = out.inits, out.fragments, out.bytes
	out.mu.Unlock()
	res.dropped = tr.DroppedTags()

	epochs.mu.Lock()
	defer epochs.mu.Unlock()
	switch {
	case feedErr != nil:
		return res, fmt.Errorf("%w: feeding tags: %w", ErrRun, feedErr)
	case len(epochs.errs) > 0:
		return res, fmt.Errorf("%w: %w; ffmpeg log ends: %s", ErrRun, errors.Join(epochs.errs...), logTail(logPath))
	case epochs.started != 1:
		return res, fmt.Errorf("%w: %d ffmpeg runs instead of 1; ffmpeg log ends: %s", ErrRun, epochs.started, logTail(logPath))
	case ctx.Err() != nil:
		return res, ctx.Err()
	}
	b.log.Debug("canopy run done", "run", n, "wall", res.wall, "dropped_tags", res.dropped)
	return res, nil
}

// logTail is the end of a log file, for error messages.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	if len(data) > tailMax {
		data = data[len(data)-tailMax:]
	}
	return string(bytes.TrimSpace(data))
}
