package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

var (
	errChildQuiet = errors.New("child process did not answer in time")
	errChildGone  = errors.New("child process exited")
)

// lineReader reads a child process's stdout line by line, with timeouts.
type lineReader struct {
	cmd *exec.Cmd
	sc  *bufio.Scanner
}

func newLineReader(cmd *exec.Cmd, r io.Reader) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20) // the load client's result line is long
	return &lineReader{cmd: cmd, sc: sc}
}

// next returns the next line; on timeout it kills the child.
func (l *lineReader) next(timeout time.Duration) (string, error) {
	got := make(chan bool, 1)
	go func() { got <- l.sc.Scan() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case ok := <-got:
		if !ok {
			return "", fmt.Errorf("%w: %v", errChildGone, l.sc.Err())
		}
		return strings.TrimSpace(l.sc.Text()), nil
	case <-t.C:
		_ = l.cmd.Process.Kill() // unblocks the scanner
		<-got
		return "", errChildQuiet
	}
}

// stopChild closes the child's stdin (its signal to exit) and waits,
// killing it after grace.
func stopChild(cmd *exec.Cmd, stdin io.Closer, grace time.Duration) {
	_ = stdin.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = cmd.Process.Kill()
		<-done
	}
}
