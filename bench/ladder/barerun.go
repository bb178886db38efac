package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/canopylive/canopy/transcode"
)

// bareDest maps the descriptors of a Canopy run to the bare command's files:
// rendition i (fd transcode.OutputFD(i)) to <dir>/<rung name>.mp4, the
// -progress report to /dev/null.
func bareDest(dir string, rungs []transcode.Rung) func(fd int) (string, error) {
	return func(fd int) (string, error) {
		if fd == transcode.ProgressFD(len(rungs)) {
			return os.DevNull, nil
		}
		i := fd - transcode.OutputFD(0)
		if i < 0 || i >= len(rungs) {
			return "", fmt.Errorf("%w: fd %d is neither a rendition nor -progress", ErrBadPipe, fd)
		}
		return filepath.Join(dir, rungs[i].Name+".mp4"), nil
	}
}

// runBare runs the ladder as one plain ffmpeg command reading the source
// file (argv: bareArgs of BuildArgs' output). CPU is ffmpeg's
// (RUSAGE_CHILDREN) over the run. The outputs are counted with the same
// fMP4 splitter Canopy uses, after the measurement, then removed.
func runBare(ctx context.Context, b bench, n int) (result, error) {
	res := result{kind: "bare", run: n}
	dir, err := os.MkdirTemp(b.dir, fmt.Sprintf("bare-%d-", n))
	if err != nil {
		return res, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	argv, err := bareArgs(b.args, b.srcPath, bareDest(dir, b.ap.Rungs))
	if err != nil {
		return res, err
	}
	cmd := exec.CommandContext(ctx, b.ffmpeg, argv...)
	var stderr tailBuffer
	cmd.Stderr = &stderr

	before, err := sampleUsage()
	if err != nil {
		return res, err
	}
	start := time.Now()
	runErr := cmd.Run()
	res.wall = time.Since(start)
	after, err := sampleUsage()
	if err != nil {
		return res, err
	}
	used := after.sub(before)
	res.ffmpegCPU, res.others = used.children, used.others()
	if runErr != nil {
		return res, fmt.Errorf("%w: bare ffmpeg: %w: %s", ErrRun, runErr, stderr.String())
	}
	for _, r := range b.ap.Rungs {
		inits, frags, size, err := countFile(filepath.Join(dir, r.Name+".mp4"))
		if err != nil {
			return res, fmt.Errorf("%w: bare output %s: %w", ErrRun, r.Name, err)
		}
		res.inits += inits
		res.fragments += frags
		res.bytes += size
	}
	return res, nil
}

// countFile splits an fMP4 file into init segments and fragments.
func countFile(path string) (inits, frags int, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, 0, err
	}
	sp := transcode.NewSplitter(f)
	for {
		seg, err := sp.Next()
		if errors.Is(err, io.EOF) {
			return inits, frags, st.Size(), nil
		}
		if err != nil {
			return inits, frags, st.Size(), err
		}
		if seg.Init {
			inits++
		} else {
			frags++
		}
	}
}

// tailBuffer keeps the last few KB of ffmpeg's stderr for error messages.
type tailBuffer struct{ b bytes.Buffer }

const tailMax = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if extra := t.b.Len() - tailMax; extra > 0 {
		t.b.Next(extra)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(bytes.TrimSpace(t.b.Bytes())) }
