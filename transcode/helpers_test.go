package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	flv "github.com/yutopp/go-flv"
	flvtag "github.com/yutopp/go-flv/tag"
)

const testTimeout = 30 * time.Second

// makeSource writes a test pattern FLV (H.264 GOP of gop frames, no
// B-frames, AAC if audio) and returns its path.
func makeSource(t *testing.T, w, h, fps, seconds, gop int, audio bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src.flv")
	args := []string{"-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", w, h, fps)}
	if audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100")
	}
	args = append(args, "-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-g", fmt.Sprint(gop), "-keyint_min", fmt.Sprint(gop), "-sc_threshold", "0", "-bf", "0")
	if audio {
		args = append(args, "-c:a", "aac", "-b:a", "64k")
	}
	args = append(args, "-f", "flv", path)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("making source: %v\n%s", err, out)
	}
	return path
}

// loadTags decodes every tag of an FLV file into memory.
func loadTags(t *testing.T, path string) []*frozenTag {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := flv.NewDecoder(f)
	if err != nil {
		t.Fatal(err)
	}
	var tags []*frozenTag
	for {
		var tg flvtag.FlvTag
		if err := dec.Decode(&tg); err != nil {
			if errors.Is(err, io.EOF) {
				return tags
			}
			t.Fatalf("decoding %s: %v", path, err)
		}
		fz, err := freeze(&tg)
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, fz)
	}
}

// feed writes tags through WriteTag as fast as the transcoder takes them.
func feed(t *testing.T, tr *Transcoder, tags []*frozenTag) {
	t.Helper()
	for i, f := range tags {
		if err := tr.WriteTag(f.tag(f.ts)); err != nil {
			t.Fatalf("WriteTag %d: %v", i, err)
		}
	}
}

// epochEnd is one OnEpochEnd call.
type epochEnd struct {
	epoch   int
	err     error
	outputs int // outputs delivered when it was called
}

// collector records everything a Transcoder reports.
type collector struct {
	mu      sync.Mutex
	outputs []Output
	ends    []epochEnd
	starts  map[int]int // epoch -> pid

	panicOnInit bool // panic (once) after recording the first init, like a buggy consumer
	panicked    bool

	fragment chan Output   // every media fragment, non-blocking
	ended    chan epochEnd // every OnEpochEnd
	started  chan int      // every OnEpochStart epoch
}

func newCollector() *collector {
	return &collector{
		starts:   map[int]int{},
		fragment: make(chan Output, 1000),
		ended:    make(chan epochEnd, 100),
		started:  make(chan int, 100),
	}
}

func (c *collector) onOutput(o Output) {
	c.mu.Lock()
	c.outputs = append(c.outputs, o)
	doPanic := o.Init && c.panicOnInit && !c.panicked
	c.panicked = c.panicked || doPanic
	c.mu.Unlock()
	if doPanic {
		panic("consumer bug")
	}
	if !o.Init {
		select {
		case c.fragment <- o:
		default:
		}
	}
}

func (c *collector) onEpochStart(epoch, pid int) {
	c.mu.Lock()
	c.starts[epoch] = pid
	c.mu.Unlock()
	c.started <- epoch
}

func (c *collector) onEpochEnd(epoch int, err error) {
	c.mu.Lock()
	e := epochEnd{epoch: epoch, err: err, outputs: len(c.outputs)}
	c.ends = append(c.ends, e)
	c.mu.Unlock()
	c.ended <- e
}

// byRendition returns the outputs of one epoch grouped by rendition, in order.
func (c *collector) byRendition(epoch int) map[string][]Output {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string][]Output{}
	for _, o := range c.outputs {
		if o.Epoch == epoch {
			m[o.Rendition] = append(m[o.Rendition], o)
		}
	}
	return m
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.outputs)
}

// wait receives from ch or fails the test after testTimeout.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// newTestTranscoder builds and starts a Transcoder wired to c, closed at cleanup.
func newTestTranscoder(t *testing.T, p Params, c *collector) *Transcoder {
	t.Helper()
	if p.Stream == "" {
		p.Stream = "test"
	}
	if p.LogDir == "" {
		p.LogDir = t.TempDir()
	}
	if p.Preset == "" {
		p.Preset = "ultrafast"
	}
	if p.MinBackoff == 0 {
		p.MinBackoff, p.MaxBackoff = 10*time.Millisecond, 100*time.Millisecond
	}
	p.OnOutput, p.OnEpochStart, p.OnEpochEnd = c.onOutput, c.onEpochStart, c.onEpochEnd
	tr, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := tr.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
