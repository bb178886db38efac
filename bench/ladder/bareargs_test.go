package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/canopylive/canopy/transcode"
)

// testDest maps fd N to "/out/N", and fd 9 to an error.
func testDest(fd int) (string, error) {
	if fd == 9 {
		return "", errors.New("no destination")
	}
	return fmt.Sprintf("/out/%d", fd), nil
}

func TestBareArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr error // nil: success; errAny: any error
	}{
		{
			name: "input, outputs and progress",
			args: []string{"-f", "flv", "-i", "pipe:0", "-c", "copy", "-f", "mp4", "pipe:3", "-f", "mp4", "pipe:4", "-progress", "pipe:5"},
			want: []string{"-nostdin", "-f", "flv", "-i", "/src.flv", "-c", "copy", "-f", "mp4", "/out/3", "-f", "mp4", "/out/4", "-progress", "/out/5"},
		},
		{
			name: "pipe: inside a longer token is not rewritten",
			args: []string{"-i", "pipe:0", "-filter_complex", "[0:v]null[pipe:3]", "-metadata", "title=pipe:4", "pipe:3"},
			want: []string{"-nostdin", "-i", "/src.flv", "-filter_complex", "[0:v]null[pipe:3]", "-metadata", "title=pipe:4", "/out/3"},
		},
		{
			name: "multi-digit descriptor",
			args: []string{"-i", "pipe:0", "pipe:12"},
			want: []string{"-nostdin", "-i", "/src.flv", "/out/12"},
		},
		{name: "no input", args: []string{"-f", "mp4", "pipe:3"}, wantErr: ErrNoPipeInput},
		{name: "empty argv", args: nil, wantErr: ErrNoPipeInput},
		{name: "file input is not a pipe input", args: []string{"-i", "in.flv", "pipe:3"}, wantErr: ErrNoPipeInput},
		{name: "second pipe:0 input", args: []string{"-i", "pipe:0", "-i", "pipe:0", "pipe:3"}, wantErr: ErrBadPipe},
		{name: "pipe:0 as an output", args: []string{"-i", "pipe:0", "pipe:0"}, wantErr: ErrBadPipe},
		{name: "input from another pipe", args: []string{"-i", "pipe:0", "-i", "pipe:3", "pipe:4"}, wantErr: ErrBadPipe},
		{name: "output to stdout", args: []string{"-i", "pipe:0", "pipe:1"}, wantErr: ErrBadPipe},
		{name: "output to stderr", args: []string{"-i", "pipe:0", "pipe:2"}, wantErr: ErrBadPipe},
		{name: "bare pipe:", args: []string{"-i", "pipe:0", "pipe:"}, wantErr: ErrBadPipe},
		{name: "signed descriptor", args: []string{"-i", "pipe:0", "pipe:+3"}, wantErr: ErrBadPipe},
		{name: "negative descriptor", args: []string{"-i", "pipe:0", "pipe:-3"}, wantErr: ErrBadPipe},
		{name: "non-numeric descriptor", args: []string{"-i", "pipe:0", "pipe:x"}, wantErr: ErrBadPipe},
		{name: "descriptor out of range", args: []string{"-i", "pipe:0", "pipe:99999999999999999999"}, wantErr: ErrBadPipe},
		{name: "same descriptor twice", args: []string{"-i", "pipe:0", "pipe:3", "pipe:3"}, wantErr: ErrBadPipe},
		{name: "destination error", args: []string{"-i", "pipe:0", "pipe:9"}, wantErr: errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := slices.Clone(tc.args)
			got, err := bareArgs(tc.args, "/src.flv", testDest)
			if !slices.Equal(tc.args, orig) {
				t.Fatalf("input modified: %q", tc.args)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr == errAny && err == nil, tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("error = %v, want %v (got argv %q)", err, tc.wantErr, got)
			case tc.wantErr == nil && !slices.Equal(got, tc.want):
				t.Fatalf("argv\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestBareArgsOfBuildArgs rewrites the real argv of the default ladder: the
// input becomes the file, every rendition its own file, -progress /dev/null,
// and every other argument stays where it was.
func TestBareArgsOfBuildArgs(t *testing.T) {
	src := transcode.Source{Width: 1920, Height: 1080, FPS: 30, HasAudio: true}
	for _, passthrough := range []bool{true, false} {
		t.Run(fmt.Sprintf("passthrough=%v", passthrough), func(t *testing.T) {
			rungs, err := transcode.Plan(transcode.DefaultLadder(), src, passthrough)
			if err != nil {
				t.Fatal(err)
			}
			args, err := transcode.BuildArgs(transcode.ArgsParams{Rungs: rungs, Source: src})
			if err != nil {
				t.Fatal(err)
			}
			got, err := bareArgs(args, "/src.flv", bareDest("/out", rungs))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(args)+1 || got[0] != "-nostdin" {
				t.Fatalf("got %d args starting %q, want %d starting -nostdin", len(got), got[0], len(args)+1)
			}
			var outputs []string
			for i, a := range args {
				g := got[i+1]
				switch {
				case a == "pipe:0":
					if g != "/src.flv" || args[i-1] != "-i" {
						t.Errorf("input %q -> %q", a, g)
					}
				case a == fmt.Sprintf("pipe:%d", transcode.ProgressFD(len(rungs))):
					if g != "/dev/null" || args[i-1] != "-progress" {
						t.Errorf("progress %q -> %q", a, g)
					}
				case strings.HasPrefix(a, "pipe:"):
					outputs = append(outputs, g)
				case g != a:
					t.Errorf("argument %d changed: %q -> %q", i, a, g)
				}
			}
			var want []string
			for _, r := range rungs {
				want = append(want, filepath.Join("/out", r.Name+".mp4"))
			}
			if !slices.Equal(outputs, want) {
				t.Errorf("outputs %q, want %q", outputs, want)
			}
		})
	}
}

func TestBareDest(t *testing.T) {
	rungs := []transcode.Rung{{Name: "720p"}, {Name: "144p"}}
	tests := []struct {
		fd      int
		want    string
		wantErr bool
	}{
		{fd: 3, want: "/o/720p.mp4"},
		{fd: 4, want: "/o/144p.mp4"},
		{fd: 5, want: "/dev/null"},
		{fd: 2, wantErr: true},
		{fd: 6, wantErr: true},
	}
	dest := bareDest("/o", rungs)
	for _, tc := range tests {
		got, err := dest(tc.fd)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("fd %d: got %q, %v; want %q, error %v", tc.fd, got, err, tc.want, tc.wantErr)
		}
	}
}

// FuzzBareArgs checks the invariants of a successful rewrite on arbitrary
// argv (arguments separated by NUL): one more argument, no whole pipe:
// token left, every other argument unchanged.
func FuzzBareArgs(f *testing.F) {
	f.Add("-i\x00pipe:0\x00pipe:3\x00-progress\x00pipe:4")
	f.Add("-i\x00pipe:0\x00pipe:3\x00pipe:3")
	f.Add("pipe:\x00-i\x00pipe:01")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		got, err := bareArgs(args, "/src.flv", func(fd int) (string, error) { return fmt.Sprintf("/out/%d", fd), nil })
		if err != nil {
			return
		}
		if len(got) != len(args)+1 || got[0] != "-nostdin" {
			t.Fatalf("got %q from %q", got, args)
		}
		inputs := 0
		for i, a := range args {
			g := got[i+1]
			if strings.HasPrefix(g, "pipe:") {
				t.Fatalf("pipe token left: %q", g)
			}
			if g == "/src.flv" && a != "/src.flv" {
				inputs++
			}
			if !strings.HasPrefix(a, "pipe:") && g != a {
				t.Fatalf("argument %d changed: %q -> %q", i, a, g)
			}
		}
		if inputs != 1 {
			t.Fatalf("%d inputs rewritten in %q", inputs, got)
		}
	})
}
