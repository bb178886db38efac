package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runDevInProcess runs `canopy dev` in this process on free ports with a
// fresh data directory and extra args, until the test ends. On failure the
// test log gets canopy dev's stderr.
func runDevInProcess(t *testing.T, extra ...string) (stdout, stderr *lockedBuffer) {
	t.Helper()
	// The data dir is made before the cleanup below is registered, so it is
	// removed only after canopy dev has stopped (cleanups run last-first).
	dataDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	done := make(chan error, 1)
	args := append([]string{"dev", "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--data-dir", dataDir}, extra...)
	go func() { done <- run(ctx, args, stdout, stderr, func(string) string { return "" }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("canopy dev: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("canopy dev did not stop")
		}
		if t.Failed() {
			lines := strings.Split(stderr.String(), "\n")
			t.Logf("canopy dev stderr (last lines):\n%s", strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})
	return stdout, stderr
}

// TestDevPrintsPlayableURL runs `canopy dev` as a user would (on free
// ports) and has ffprobe read the HLS URL it prints.
func TestDevPrintsPlayableURL(t *testing.T) {
	stdout, _ := runDevInProcess(t)
	ctx := context.Background()

	re := regexp.MustCompile(`HLS:\s+(http://\S+/live/demo/master\.m3u8)`)
	var url string
	deadline := time.Now().Add(10 * time.Second)
	for url == "" {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no player URL printed:\n%s", stdout.String())
		}
		time.Sleep(50 * time.Millisecond) // polling printed output, not synchronising goroutines
	}
	var out []byte
	var err error
	deadline = time.Now().Add(30 * time.Second)
	for {
		out, err = exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width,height",
			"-of", "csv=p=0", url).Output()
		if err == nil && strings.Contains(string(out), "video,1920,1080") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ffprobe never read %s: %v\n%s", url, err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, want := range []string{"video,1920,1080", "video,1280,720", "video,854,480", "video,256,144", "audio"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ffprobe of %s lacks %q:\n%s", url, want, out)
		}
	}

	// Both relay nodes got the stream down the tree and serve it too.
	relays := regexp.MustCompile(`Relay node \d: (http://\S+/live/demo/master\.m3u8)`).FindAllStringSubmatch(stdout.String(), -1)
	if len(relays) != 2 {
		t.Fatalf("want two relay node URLs printed:\n%s", stdout.String())
	}
	for _, m := range relays {
		deadline = time.Now().Add(30 * time.Second)
		for {
			out, err = exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width,height",
				"-of", "csv=p=0", m[1]).Output()
			if err == nil && strings.Contains(string(out), "video,256,144") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ffprobe never read relay %s: %v\n%s", m[1], err, out)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"bogus"}, &out, &errb, func(string) string { return "" }); err == nil {
		t.Fatal("unknown command accepted")
	}
	if !strings.Contains(errb.String(), "Usage:") {
		t.Errorf("no usage printed: %s", errb.String())
	}
}

func TestParseFrameSize(t *testing.T) {
	tests := []struct {
		in   string
		w, h int
		ok   bool
	}{
		{"1920x1080", 1920, 1080, true}, {"640x360", 640, 360, true},
		{"640", 0, 0, false}, {"641x360", 0, 0, false}, {"8x8", 0, 0, false},
		{"8192x4320", 0, 0, false}, {"ax360", 0, 0, false}, {"", 0, 0, false},
	}
	for _, tt := range tests {
		w, h, err := parseFrameSize(tt.in)
		if (err == nil) != tt.ok || w != tt.w || h != tt.h {
			t.Errorf("parseFrameSize(%q) = %d, %d, %v", tt.in, w, h, err)
		}
	}
}
