package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

var (
	errChildQuiet = errors.New("load client did not answer in time")
	errChildGone  = errors.New("load client exited")
)

// loadProc is the parent's handle on the load client child.
type loadProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // the child's stdout, line by line; closed at EOF
}

// startLoadClient runs this program as the load client against url.
func startLoadClient(ctx context.Context, cfg config, url string) (*loadProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-load-client", url, "-viewers", strconv.Itoa(cfg.viewers),
		"-dial-batch", strconv.Itoa(cfg.dialBatch), "-timeout", cfg.timeout.String(), "-bwe="+strconv.FormatBool(cfg.bwe))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &loadProc{cmd: cmd, stdin: stdin, lines: make(chan string, 4)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p, nil
}

func (p *loadProc) pid() int { return p.cmd.Process.Pid }

// next decodes the child's next line into v, waiting up to ctx's deadline.
func (p *loadProc) next(ctx context.Context, v any) error {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return errChildGone
		}
		if err := json.Unmarshal([]byte(line), v); err != nil {
			return fmt.Errorf("load client said %q: %w", line, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", errChildQuiet, ctx.Err())
	}
}

// ready waits for the child's viewers to connect.
func (p *loadProc) ready(ctx context.Context) (readyMsg, error) {
	var m readyMsg
	return m, p.next(ctx, &m)
}

// mark asks the child for its counters now.
func (p *loadProc) mark(ctx context.Context) (snapshot, error) {
	var s snapshot
	if _, err := io.WriteString(p.stdin, "mark\n"); err != nil {
		return s, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s, p.next(ctx, &s)
}

// stop closes the child's stdin (its signal to close its viewers and
// exit) and waits, killing it after grace.
func (p *loadProc) stop(grace time.Duration) {
	_ = p.stdin.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-done
	}
}
