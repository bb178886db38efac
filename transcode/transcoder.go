package transcode

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	flvtag "github.com/yutopp/go-flv/tag"
)

// Defaults for Params.
const (
	DefaultMinBackoff   = 250 * time.Millisecond
	DefaultMaxBackoff   = 5 * time.Second
	DefaultCloseTimeout = 10 * time.Second
	// stableRun is how long a run must last for the restart backoff to reset.
	stableRun = 30 * time.Second
)

// Output is one init segment or media fragment of one rendition.
type Output struct {
	Epoch     int // 0 for the first ffmpeg run of this Transcoder, +1 per restart
	Rendition string
	Init      bool
	Index     int // media fragment index within the epoch, 0-based (per rendition); -1 for init
	Data      []byte
	// Media only: start (tfdt) and duration (sum of sample durations) of the video track.
	Start, Duration time.Duration
	Codecs          string // init only: RFC 6381 codecs of all tracks, comma separated
	Width, Height   int    // init only
}

// Params configure a Transcoder.
type Params struct {
	FFmpegPath      string // "" = look up "ffmpeg" in PATH
	Stream          string // for logs, metrics labels and the log file name
	Rungs           []Rung // planned (see Plan)
	Source          Source
	SegmentDuration time.Duration // default 2s
	Preset          string        // x264 preset, default "veryfast"
	Threads         int           // 0 = ffmpeg default
	WebRTC          *WebRTCOutput // nil: no low-latency RTP outputs (see ArgsParams.WebRTC)
	LogDir          string        // ffmpeg's stderr is appended to <LogDir>/<Stream>.ffmpeg.log
	Logger          *slog.Logger  // nil = discard
	Metrics         *Metrics      // may be nil

	// OnOutput is called from transcoder goroutines; calls for one rendition
	// are serial. A slow OnOutput slows ffmpeg down (and, through WriteTag,
	// the publisher).
	OnOutput func(Output)
	// OnEpochStart, if set, is called when an ffmpeg run has started, before
	// any of its outputs.
	OnEpochStart func(epoch int, pid int)
	// OnEpochEnd is called after all outputs of that ffmpeg run were
	// delivered; err is nil on a clean exit.
	OnEpochEnd func(epoch int, err error)

	MinBackoff, MaxBackoff time.Duration    // restart backoff, defaults 250ms / 5s
	CloseTimeout           time.Duration    // how long Close lets ffmpeg flush before killing it; default 10s
	Now                    func() time.Time // clock for the speed watch and run lengths; default time.Now
}

// Transcoder supervises one ffmpeg per stream: it feeds it FLV, restarts it
// when it dies, and hands its fMP4 output to OnOutput.
type Transcoder struct {
	p    Params
	path string
	args []string
	log  *slog.Logger

	mu       sync.Mutex
	started  bool
	closing  bool
	cur      *run // nil while restarting
	hdr      streamHeaders
	progress Progress

	dropped   atomic.Int64
	closeCh   chan struct{}
	closeOnce sync.Once
	supDone   chan struct{}
	watchDone chan struct{}

	logMu   sync.Mutex
	logFile *os.File
}

// New checks the parameters, finds ffmpeg and builds its arguments. It
// starts nothing.
func New(p Params) (*Transcoder, error) {
	if p.Stream == "" || p.Stream == "." || p.Stream == ".." || strings.ContainsAny(p.Stream, `/\`+"\x00") {
		return nil, fmt.Errorf("%w: stream name %q", ErrBadParams, p.Stream)
	}
	if p.LogDir == "" {
		return nil, fmt.Errorf("%w: LogDir is required", ErrBadParams)
	}
	if p.MinBackoff == 0 {
		p.MinBackoff = DefaultMinBackoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MinBackoff < 0 || p.MaxBackoff < p.MinBackoff {
		return nil, fmt.Errorf("%w: backoff %v..%v", ErrBadParams, p.MinBackoff, p.MaxBackoff)
	}
	if p.CloseTimeout <= 0 {
		p.CloseTimeout = DefaultCloseTimeout
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.SegmentDuration == 0 {
		p.SegmentDuration = DefaultSegmentDuration
	}
	args, err := BuildArgs(ArgsParams{
		Rungs: p.Rungs, Source: p.Source, SegmentDuration: p.SegmentDuration, Preset: p.Preset, Threads: p.Threads,
		WebRTC: p.WebRTC,
	})
	if err != nil {
		return nil, err
	}
	name := p.FFmpegPath
	if name == "" {
		name = "ffmpeg"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrFFmpegNotFound, name, err)
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Transcoder{
		p:         p,
		path:      path,
		args:      args,
		log:       log.With("component", "transcode", "stream", p.Stream),
		closeCh:   make(chan struct{}),
		supDone:   make(chan struct{}),
		watchDone: make(chan struct{}),
	}, nil
}

// Args returns the ffmpeg arguments every run uses.
func (t *Transcoder) Args() []string { return append([]string(nil), t.args...) }

// Start opens the log file and launches ffmpeg (epoch 0). Cancelling ctx
// kills ffmpeg and stops restarts; Close is still needed to wait for the
// goroutines.
func (t *Transcoder) Start(ctx context.Context) error {
	t.mu.Lock()
	switch {
	case t.closing:
		t.mu.Unlock()
		return ErrClosed
	case t.started:
		t.mu.Unlock()
		return ErrStarted
	}
	t.started = true
	t.mu.Unlock()

	r, err := t.start()
	if err != nil {
		// The transcoder is unusable; leave it in a state Close accepts.
		t.mu.Lock()
		t.closing = true
		t.mu.Unlock()
		close(t.supDone)
		close(t.watchDone)
		return err
	}
	t.mu.Lock()
	t.cur = r
	if t.closing { // Close ran meanwhile and saw no run
		r.closeStdin()
	}
	t.mu.Unlock()
	t.callEpochStart(0, r.pid()) // ffmpeg writes nothing before it gets input
	go t.supervise(ctx, r)
	go t.watchCtx(ctx)
	return nil
}

// start opens the log file and starts epoch 0.
func (t *Transcoder) start() (*run, error) {
	if err := os.MkdirAll(t.p.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("transcode: log directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(t.p.LogDir, t.p.Stream+".ffmpeg.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("transcode: log file: %w", err)
	}
	t.logMu.Lock()
	t.logFile = f
	t.logMu.Unlock()
	r, err := t.startRun(0)
	if err != nil {
		t.closeLog()
		return nil, err
	}
	return r, nil
}

// WriteTag feeds one FLV tag (audio, video or script data, in stream order)
// to ffmpeg. It always consumes the tag's payload. It may block while ffmpeg
// is slow (back-pressure to the publisher); while ffmpeg is restarting, and
// until the next video keyframe after a (re)start, tags are dropped and
// counted. After Close it returns ErrClosed.
func (t *Transcoder) WriteTag(tag *flvtag.FlvTag) error {
	if tag == nil {
		return fmt.Errorf("%w: nil tag", ErrBadParams)
	}
	f, err := freeze(tag)
	if err != nil {
		return err
	}
	t.mu.Lock()
	switch {
	case t.closing:
		t.mu.Unlock()
		return ErrClosed
	case !t.started:
		t.mu.Unlock()
		return ErrNotStarted
	case f.isAudio() && !t.p.Source.HasAudio:
		t.mu.Unlock()
		return nil // a video-only ladder: the audio is not wanted
	}
	isHeader := t.hdr.remember(f)
	h, r := t.hdr, t.cur
	t.mu.Unlock()
	if r == nil {
		t.drop()
		return nil
	}
	dropped, err := r.feed(f, h, isHeader)
	if err != nil {
		if t.isClosing() {
			return fmt.Errorf("%w (%v)", ErrClosed, err)
		}
		dropped = true // ffmpeg is dying; the supervisor restarts it
	}
	if dropped {
		t.drop()
	}
	return nil
}

// Close closes ffmpeg's stdin, lets it flush its last fragments (killing it
// after CloseTimeout), and waits for all goroutines. It is idempotent.
func (t *Transcoder) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closing = true
		r, started := t.cur, t.started
		t.mu.Unlock()
		close(t.closeCh)
		if !started {
			return
		}
		if r != nil {
			r.closeStdin()
		}
		timer := time.NewTimer(t.p.CloseTimeout)
		defer timer.Stop()
		select {
		case <-t.supDone:
		case <-timer.C:
			t.log.Warn("ffmpeg did not finish in time after its input closed; killing it", "timeout", t.p.CloseTimeout)
			t.mu.Lock()
			r = t.cur
			t.mu.Unlock()
			if r != nil {
				r.kill()
			}
			<-t.supDone
		}
		<-t.watchDone
		t.closeLog()
		t.p.Metrics.forget(t.p.Stream)
	})
	return nil
}

// PID returns the current ffmpeg's process id, 0 if none is running.
func (t *Transcoder) PID() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur == nil {
		return 0
	}
	return t.cur.pid()
}

// DroppedTags returns how many tags were dropped (restarts, waiting for a keyframe).
func (t *Transcoder) DroppedTags() int64 { return t.dropped.Load() }

// LastProgress returns the latest -progress block of the current or last run.
func (t *Transcoder) LastProgress() Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.progress
}

func (t *Transcoder) isClosing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closing
}

func (t *Transcoder) drop() {
	t.dropped.Add(1)
	t.p.Metrics.droppedTag(t.p.Stream)
}

func (t *Transcoder) closeLog() {
	t.logMu.Lock()
	defer t.logMu.Unlock()
	if t.logFile != nil {
		_ = t.logFile.Close()
		t.logFile = nil
	}
}

// writeLog appends one line to the stream's ffmpeg log file.
func (t *Transcoder) writeLog(line string) {
	t.logMu.Lock()
	defer t.logMu.Unlock()
	if t.logFile == nil {
		return
	}
	if _, err := t.logFile.WriteString(line + "\n"); err != nil {
		t.log.Warn("writing the ffmpeg log file failed", "err", err)
	}
}

// watchCtx kills the running ffmpeg when ctx ends.
func (t *Transcoder) watchCtx(ctx context.Context) {
	defer close(t.watchDone)
	select {
	case <-ctx.Done():
		t.mu.Lock()
		r := t.cur
		t.mu.Unlock()
		if r != nil {
			t.log.Info("context cancelled; stopping ffmpeg")
			r.kill()
		}
	case <-t.closeCh:
	}
}
