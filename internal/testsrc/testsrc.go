package testsrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Params describes the pattern and where it goes.
type Params struct {
	FFmpeg   string        // default "ffmpeg"
	URL      string        // rtmp://host:port/live/KEY
	Width    int           // default 1920
	Height   int           // default 1080
	FPS      int           // default 30
	Audio    bool          // add a 440 Hz AAC tone
	Codec    string        // video encoder: "libx264" (default) or e.g. "flv" (Sorenson H.263) to test refusals
	GOP      time.Duration // keyframe interval, default 2s
	Duration time.Duration // 0 runs until Close
	Realtime bool          // pace at real time (-re); false publishes as fast as ffmpeg encodes
	Bitrate  string        // default "4000k"
	Stderr   io.Writer     // ffmpeg's stderr; nil discards it
	// ClockStamp paints the wall-clock time each frame is made (Unix ms
	// mod 2^24) into the top eighth of the picture as 24 black-or-white
	// blocks, least significant bit on the left, for measuring
	// glass-to-glass latency (ReadClockStamps reads them back). It costs
	// a per-pixel filter: keep the picture small.
	ClockStamp bool
}

// Args builds the ffmpeg argument list.
func Args(p Params) []string {
	p = withDefaults(p)
	gop := strconv.Itoa(int(p.GOP.Seconds() * float64(p.FPS)))
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "warning"}
	if p.Realtime {
		args = append(args, "-re")
	}
	src := fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", p.Width, p.Height, p.FPS)
	if p.ClockStamp {
		src += "," + stampFilter(p.FPS)
	}
	args = append(args, "-f", "lavfi", "-i", src)
	if p.Audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
	}
	if p.Duration > 0 {
		args = append(args, "-t", strconv.FormatFloat(p.Duration.Seconds(), 'f', 3, 64))
	}
	args = append(args, "-c:v", p.Codec)
	if p.Codec == "libx264" {
		args = append(args, "-preset", "ultrafast", "-tune", "zerolatency", "-profile:v", "high", "-pix_fmt", "yuv420p")
	}
	args = append(args, "-b:v", p.Bitrate, "-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-bf", "0")
	if p.Audio {
		args = append(args, "-c:a", "aac", "-b:a", "128k", "-ar", "48000")
	}
	return append(args, "-f", "flv", p.URL)
}

func withDefaults(p Params) Params {
	if p.FFmpeg == "" {
		p.FFmpeg = "ffmpeg"
	}
	if p.Width == 0 {
		p.Width, p.Height = 1920, 1080
	}
	if p.FPS == 0 {
		p.FPS = 30
	}
	if p.Codec == "" {
		p.Codec = "libx264"
	}
	if p.GOP == 0 {
		p.GOP = 2 * time.Second
	}
	if p.Bitrate == "" {
		p.Bitrate = "4000k"
	}
	return p
}

// Publisher is one running ffmpeg publisher.
type Publisher struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
}

// Start launches ffmpeg. It runs until the duration ends, the server drops
// it, ctx ends or Close.
func Start(ctx context.Context, p Params) (*Publisher, error) {
	p = withDefaults(p)
	cmd := exec.CommandContext(ctx, p.FFmpeg, Args(p)...)
	cmd.Stderr = p.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start test source: %w", err)
	}
	pub := &Publisher{cmd: cmd, done: make(chan struct{})}
	go func() {
		pub.err = cmd.Wait()
		close(pub.done)
	}()
	return pub, nil
}

// Done is closed when ffmpeg has exited.
func (p *Publisher) Done() <-chan struct{} { return p.done }

// Err is ffmpeg's exit error, valid after Done.
func (p *Publisher) Err() error { return p.err }

// Close stops ffmpeg (SIGINT first, so it closes the RTMP stream cleanly).
func (p *Publisher) Close() error {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return nil // killed or interrupted on purpose
	}
	return p.err
}
