package transcode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// run is one ffmpeg process: one epoch.
type run struct {
	t       *Transcoder
	epoch   int
	cmd     *exec.Cmd
	started time.Time

	stdin     *os.File
	stdinOnce sync.Once

	wmu    sync.Mutex // serialises writes to stdin
	flv    *flvFeed
	broken bool // a write failed; the rest of the run's input is dropped

	readers sync.WaitGroup // output, progress and stderr readers
	done    chan struct{}  // closed when the process has exited and all readers finished
	exitErr error          // from Wait, valid after done

	mu      sync.Mutex
	failErr error  // first output decoding failure
	lastErr string // last error-class stderr line
}

// startRun starts ffmpeg for epoch: pipes for stdin, one output per rung,
// -progress and stderr; the FLV header is written at once.
func (t *Transcoder) startRun(epoch int) (*run, error) {
	var parentEnds, childEnds []*os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			_ = f.Close()
		}
	}
	pipe := func() (*os.File, *os.File, error) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, nil, fmt.Errorf("transcode: pipe: %w", err)
		}
		return r, w, nil
	}
	fail := func(err error) (*run, error) {
		closeAll(parentEnds)
		closeAll(childEnds)
		return nil, err
	}

	stdinR, stdinW, err := pipe()
	if err != nil {
		return fail(err)
	}
	parentEnds, childEnds = append(parentEnds, stdinW), append(childEnds, stdinR)
	outs := make([]*os.File, len(t.p.Rungs))
	extra := make([]*os.File, 0, len(t.p.Rungs)+1)
	for i := range t.p.Rungs {
		r, w, err := pipe()
		if err != nil {
			return fail(err)
		}
		outs[i] = r
		extra = append(extra, w)
		parentEnds, childEnds = append(parentEnds, r), append(childEnds, w)
	}
	progR, progW, err := pipe()
	if err != nil {
		return fail(err)
	}
	extra = append(extra, progW)
	parentEnds, childEnds = append(parentEnds, progR), append(childEnds, progW)
	errR, errW, err := pipe()
	if err != nil {
		return fail(err)
	}
	parentEnds, childEnds = append(parentEnds, errR), append(childEnds, errW)

	cmd := exec.Command(t.path, t.args...)
	cmd.Stdin = stdinR
	cmd.Stderr = errW
	cmd.ExtraFiles = extra // child fds 3, 4, ...: the outputs, then -progress
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("transcode: starting ffmpeg: %w", err))
	}
	closeAll(childEnds) // the child holds its own copies

	feed, err := newFLVFeed(stdinW, t.p.Source.HasAudio)
	if err != nil { // cannot happen: the header goes to a buffer
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		closeAll(parentEnds)
		return nil, err
	}
	r := &run{
		t: t, epoch: epoch, cmd: cmd, started: t.p.Now(),
		stdin: stdinW, flv: feed, done: make(chan struct{}),
	}
	t.writeLog(fmt.Sprintf("==== %s epoch %d pid %d: %s %q",
		time.Now().UTC().Format(time.RFC3339Nano), epoch, cmd.Process.Pid, t.path, t.args))
	t.log.Info("ffmpeg started", "epoch", epoch, "pid", cmd.Process.Pid)

	r.readers.Add(len(outs) + 2)
	for i, f := range outs {
		go r.readRendition(i, f)
	}
	go r.readProgress(progR)
	go r.readStderr(errR)
	go r.wait()
	if err := feed.flush(); err != nil { // the FLV header; fits in the pipe buffer
		r.markBroken()
	}
	return r, nil
}

func (r *run) pid() int { return r.cmd.Process.Pid }

// wait reaps the process, waits for the readers and marks the run done.
func (r *run) wait() {
	err := r.cmd.Wait()
	r.readers.Wait()
	r.closeStdin()
	r.exitErr = err
	close(r.done)
}

// kill stops ffmpeg at once.
func (r *run) kill() { _ = r.cmd.Process.Kill() }

// closeStdin ends ffmpeg's input; ffmpeg then flushes and exits. It
// unblocks a WriteTag blocked on the pipe.
func (r *run) closeStdin() {
	r.stdinOnce.Do(func() { _ = r.stdin.Close() })
}

func (r *run) markBroken() {
	r.wmu.Lock()
	r.broken = true
	r.wmu.Unlock()
}

// feed writes one tag to ffmpeg (see flvFeed.feed).
func (r *run) feed(f *frozenTag, h streamHeaders, isHeader bool) (dropped bool, err error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.broken {
		return true, nil
	}
	dropped, err = r.flv.feed(f, h, isHeader)
	if err != nil {
		r.broken = true
	}
	return dropped, err
}

// fail records an output decoding failure and kills ffmpeg: the run's
// output can no longer be trusted, a new epoch starts clean.
func (r *run) fail(err error) {
	r.mu.Lock()
	first := r.failErr == nil
	if first {
		r.failErr = err
	}
	r.mu.Unlock()
	if first {
		r.t.log.Error("ffmpeg output undecodable; killing ffmpeg", "epoch", r.epoch, "err", err)
		r.kill()
	}
}

// result is the run's outcome for OnEpochEnd: nil on a clean exit.
func (r *run) result() error {
	r.mu.Lock()
	failErr, last := r.failErr, r.lastErr
	r.mu.Unlock()
	if failErr != nil {
		if r.exitErr != nil {
			return fmt.Errorf("%w (ffmpeg: %v)", failErr, r.exitErr)
		}
		return failErr
	}
	if r.exitErr == nil {
		return nil
	}
	if last != "" {
		return fmt.Errorf("%w: %v; last error: %s", ErrFFmpegExit, r.exitErr, last)
	}
	return fmt.Errorf("%w: %v", ErrFFmpegExit, r.exitErr)
}

// readRendition splits one output pipe into init segments and fragments.
func (r *run) readRendition(i int, f *os.File) {
	defer r.readers.Done()
	defer func() { _ = f.Close() }()
	t := r.t
	name := t.p.Rungs[i].Name
	sp := NewSplitter(bufio.NewReaderSize(f, 64<<10))
	index := 0
	for {
		seg, err := sp.Next()
		if err != nil {
			// An unexpected EOF means ffmpeg died mid-fragment; its exit
			// status tells why. Anything else is garbage on the pipe.
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				r.fail(fmt.Errorf("rendition %s: %w", name, err))
			}
			_, _ = io.Copy(io.Discard, f)
			return
		}
		out := Output{Epoch: r.epoch, Rendition: name, Init: seg.Init, Data: seg.Data}
		if seg.Init {
			out.Index = -1
			out.Codecs, out.Width, out.Height = seg.Info.Codecs, seg.Info.Width, seg.Info.Height
		} else {
			out.Index, out.Start, out.Duration = index, seg.Start, seg.Duration
			index++
			t.p.Metrics.fragment(t.p.Stream, name)
		}
		t.deliver(out)
	}
}

// readProgress parses -progress and feeds the speed gauge and watch.
func (r *run) readProgress(f *os.File) {
	defer r.readers.Done()
	defer func() { _ = f.Close() }()
	t := r.t
	w := speedWatch{now: t.p.Now}
	err := ParseProgress(f, func(p Progress) {
		t.mu.Lock()
		t.progress = p
		t.mu.Unlock()
		speed, ok, ev := w.observe(p)
		if ok {
			t.p.Metrics.setSpeed(t.p.Stream, speed)
		}
		switch ev {
		case speedWarn:
			t.log.Warn("transcoding slower than real time: the machine cannot keep up with the ladder (or the input stalled)",
				"epoch", r.epoch, "speed", speed, "for", slowWindow, "ffmpeg_speed", p.Speed)
		case speedRecovered:
			t.log.Info("transcoding back at real time", "epoch", r.epoch, "speed", speed)
		}
	})
	if err != nil {
		t.log.Warn("unreadable ffmpeg progress report", "epoch", r.epoch, "err", err)
		_, _ = io.Copy(io.Discard, f)
	}
}

// Logging of explain/error stderr lines is limited per explanation.
const stderrLogEvery = 10 * time.Second

// readStderr appends every line to the log file and logs classified lines.
func (r *run) readStderr(f *os.File) {
	defer r.readers.Done()
	defer func() { _ = f.Close() }()
	t := r.t
	br := bufio.NewReaderSize(f, 4096)
	lastLogged := map[string]time.Time{}
	suppressed := map[string]int{}
	for {
		b, err := readLine(br, 4096)
		if len(b) > 0 {
			line := string(b)
			t.writeLog(line)
			class, why := Classify(line)
			t.p.Metrics.stderrLine(t.p.Stream, class)
			if class == Error {
				r.mu.Lock()
				r.lastErr = line
				r.mu.Unlock()
			}
			if class != Ignore {
				now := t.p.Now()
				if last, ok := lastLogged[why]; ok && now.Sub(last) < stderrLogEvery {
					suppressed[why]++
				} else {
					lastLogged[why] = now
					attrs := []any{"epoch", r.epoch, "explanation", why, "line", line, "suppressed", suppressed[why]}
					suppressed[why] = 0
					if class == Error {
						t.log.Error("ffmpeg error", attrs...)
					} else {
						t.log.Warn("ffmpeg warning", attrs...)
					}
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_, _ = io.Copy(io.Discard, f)
			}
			return
		}
	}
}
