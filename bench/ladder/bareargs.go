package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors of bareArgs.
var (
	// ErrNoPipeInput means the argv has no "-i pipe:0" to replace.
	ErrNoPipeInput = errors.New("ladder bench: argv has no -i pipe:0 input")
	// ErrBadPipe means a pipe: token the bare command cannot reproduce.
	ErrBadPipe = errors.New("ladder bench: unexpected pipe in argv")
)

// firstOutputFD is the lowest child descriptor transcode writes to (0 is the
// FLV input, 1 and 2 are stdout and stderr).
const firstOutputFD = 3

// bareArgs turns the argv of a Canopy ffmpeg run (transcode.BuildArgs) into
// the argv of one standalone command:
//
//   - "-i pipe:0" (the FLV on stdin) becomes "-i <input>";
//   - every other whole token "pipe:N" (N ≥ 3: a rendition output or the
//     -progress report) becomes dest(N);
//   - "-nostdin" is prepended: ffmpeg turns keyboard interaction off by
//     itself when its input is pipe:0, and must do the same here.
//
// Everything else — the filter graph, every encoder option — is copied
// unchanged, so both commands do the same encoding work. Only whole tokens
// are rewritten ("pipe:" inside a longer token is left alone). args is not
// modified. bareArgs rejects an argv without exactly one "-i pipe:0", pipes
// to fds 1 and 2, an input from another pipe, malformed or repeated
// descriptors.
func bareArgs(args []string, input string, dest func(fd int) (string, error)) ([]string, error) {
	out := make([]string, 0, len(args)+1)
	out = append(out, "-nostdin")
	inputs := 0
	seen := map[int]bool{}
	for i, tok := range args {
		rest, ok := strings.CutPrefix(tok, "pipe:")
		if !ok {
			out = append(out, tok)
			continue
		}
		fd, err := pipeFD(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: argument %d %q: %v", ErrBadPipe, i, tok, err)
		}
		afterI := i > 0 && args[i-1] == "-i"
		switch {
		case fd == 0 && afterI:
			inputs++
			if inputs > 1 {
				return nil, fmt.Errorf("%w: argument %d: a second -i pipe:0", ErrBadPipe, i)
			}
			out = append(out, input)
			continue
		case fd == 0:
			return nil, fmt.Errorf("%w: argument %d: pipe:0 not as -i", ErrBadPipe, i)
		case afterI:
			return nil, fmt.Errorf("%w: argument %d: input from %q", ErrBadPipe, i, tok)
		case fd < firstOutputFD:
			return nil, fmt.Errorf("%w: argument %d: output to fd %d", ErrBadPipe, i, fd)
		case seen[fd]:
			return nil, fmt.Errorf("%w: argument %d: fd %d used twice", ErrBadPipe, i, fd)
		}
		seen[fd] = true
		path, err := dest(fd)
		if err != nil {
			return nil, fmt.Errorf("ladder bench: destination of fd %d: %w", fd, err)
		}
		out = append(out, path)
	}
	if inputs == 0 {
		return nil, ErrNoPipeInput
	}
	return out, nil
}

// pipeFD parses the descriptor after "pipe:": decimal digits only.
func pipeFD(s string) (int, error) {
	if s == "" {
		return 0, errors.New("no descriptor")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("descriptor %q is not a number", s)
		}
	}
	fd, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("descriptor %q: %w", s, err)
	}
	return fd, nil
}
