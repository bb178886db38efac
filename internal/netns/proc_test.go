package netns

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is one program running inside a member's namespace, with its
// stdout and stderr in files under the test's temporary directory.
type proc struct {
	name           string
	stdout, stderr string
	done           chan struct{}
	err            error
}

// startProc runs name args... in member's namespace until the test ends:
// SIGTERM at cleanup, SIGKILL 5 s later.
func startProc(t *testing.T, n *Net, dir, label, member, name string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd, err := n.Command(ctx, member, name, args...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	p := &proc{name: label, stdout: filepath.Join(dir, label+".out"), stderr: filepath.Join(dir, label+".err"), done: make(chan struct{})}
	out, err := os.Create(p.stdout)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	errf, err := os.Create(p.stderr)
	if err != nil {
		cancel()
		_ = out.Close()
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, errf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		_, _ = out.Close(), errf.Close()
		t.Fatalf("start %s: %v", label, err)
	}
	go func() {
		p.err = cmd.Wait()
		_, _ = out.Close(), errf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not exit", label)
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitLine polls stdout until re matches, and returns the first submatch.
func (p *proc) waitLine(t *testing.T, re *regexp.Regexp, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		b, _ := os.ReadFile(p.stdout)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1])
		}
		if p.exited() {
			t.Fatalf("%s exited (%v) before printing %q", p.name, p.err, re)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s printed no %q within %v", p.name, re, within)
		}
		time.Sleep(50 * time.Millisecond) // polling a log file with a deadline
	}
}

// tail returns the last lines of the process's output, for failure reports.
func (p *proc) tail(lines int) string {
	var sb strings.Builder
	for _, f := range []string{p.stdout, p.stderr} {
		b, _ := os.ReadFile(f)
		ls := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
		if len(ls) > lines {
			ls = ls[len(ls)-lines:]
		}
		fmt.Fprintf(&sb, "--- %s\n%s\n", filepath.Base(f), bytes.Join(ls, []byte("\n")))
	}
	return sb.String()
}
