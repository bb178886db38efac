package origin_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canopylive/canopy/internal/testsrc"
	"github.com/canopylive/canopy/origin"
	"github.com/canopylive/canopy/proto"
)

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	t     *testing.T
	o     *origin.Origin
	logs  *syncBuffer
	base  string
	rtmp  string
	dir   string
	key   ed25519.PrivateKey
	keys  []origin.StreamKey
	tweak func(*origin.Params)
}

// startOrigin runs a real origin on loopback with a store in dir.
func startOrigin(t *testing.T, dir string, keys []origin.StreamKey, key ed25519.PrivateKey, tweak func(*origin.Params)) *env {
	t.Helper()
	e := &env{t: t, logs: &syncBuffer{}, dir: dir, key: key, keys: keys, tweak: tweak}
	e.start()
	return e
}

func (e *env) start() {
	t := e.t
	t.Helper()
	store, err := origin.NewFileStore(filepath.Join(e.dir, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	p := origin.Params{
		HTTPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0",
		Streams: e.keys, Key: e.key, Store: store,
		Transcode:      origin.TranscodeParams{Preset: "ultrafast"},
		ReconnectGrace: 30 * time.Second,
		LogDir:         filepath.Join(e.dir, "logs"),
		Logger:         slog.New(slog.NewTextHandler(io.MultiWriter(e.logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	if e.tweak != nil {
		e.tweak(&p)
	}
	o, err := origin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.o = o
	e.base = "http://" + o.HTTPAddr()
	e.rtmp = "rtmp://" + o.RTMPAddr() + "/live/"
	t.Cleanup(func() { _ = o.Close() })
}

// testWriter sends logs to t.Log so a failing test shows them.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// publish starts a real ffmpeg RTMP publisher.
func (e *env) publish(key string, p testsrc.Params) *testsrc.Publisher {
	e.t.Helper()
	p.URL = e.rtmp + key
	var stderr syncBuffer
	p.Stderr = &stderr
	pub, err := testsrc.Start(context.Background(), p)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		_ = pub.Close()
		if s := stderr.String(); s != "" {
			e.t.Logf("publisher stderr: %s", s)
		}
	})
	return pub
}

func (e *env) get(path string) (int, []byte) {
	e.t.Helper()
	resp, err := http.Get(e.base + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		<-tick.C
	}
}

// records fetches the signed records of a rendition.
func (e *env) records(stream, rendition string) []proto.Segment {
	e.t.Helper()
	code, body := e.get(fmt.Sprintf("/live/%s/%s/records.json", stream, rendition))
	if code != http.StatusOK {
		e.t.Fatalf("records %s/%s: %d %s", stream, rendition, code, body)
	}
	var recs []proto.Segment
	if err := json.Unmarshal(body, &recs); err != nil {
		e.t.Fatalf("records: %v", err)
	}
	return recs
}

func mediaOnly(recs []proto.Segment) []proto.Segment {
	var out []proto.Segment
	for _, r := range recs {
		if r.Kind == proto.KindMedia {
			out = append(out, r)
		}
	}
	return out
}

// streamInfo returns the stream's entry in /api/v1/streams.
func (e *env) streamInfo(id string) origin.StreamInfo {
	e.t.Helper()
	_, body := e.get("/api/v1/streams")
	var list []origin.StreamInfo
	if err := json.Unmarshal(body, &list); err != nil {
		e.t.Fatalf("streams: %v: %s", err, body)
	}
	for _, s := range list {
		if s.ID == id {
			return s
		}
	}
	e.t.Fatalf("stream %s not listed", id)
	return origin.StreamInfo{}
}

// ffprobe runs the real ffprobe against a URL and decodes its JSON.
func ffprobe(t *testing.T, args ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"-v", "error", "-of", "json"}, args...)
	out, err := exec.CommandContext(ctx, "ffprobe", full...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("ffprobe %v: %v: %s", args, err, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("ffprobe json: %v", err)
	}
	return m
}

// decodedFrames asks ffprobe to decode the first frames of url's video and
// returns their sizes.
func decodedFrames(t *testing.T, url string, n int) [][2]int {
	t.Helper()
	m := ffprobe(t, "-select_streams", "v:0", "-read_intervals", "%+#"+strconv.Itoa(n),
		"-show_entries", "frame=width,height", url)
	frames, _ := m["frames"].([]any)
	var out [][2]int
	for _, f := range frames {
		fm := f.(map[string]any)
		out = append(out, [2]int{int(fm["width"].(float64)), int(fm["height"].(float64))})
	}
	return out
}

// transcoderPIDs lists this test process's ffmpeg children that read FLV on
// stdin: the origin's transcoders (publishers write to an RTMP URL instead).
func transcoderPIDs(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	me := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// stat: pid (comm) state ppid ...
		rest := string(stat[bytes.LastIndexByte(stat, ')')+2:])
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid != me {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if bytes.Contains(cmdline, []byte("ffmpeg")) && bytes.Contains(cmdline, []byte("pipe:0")) {
			out = append(out, pid)
		}
	}
	return out
}
