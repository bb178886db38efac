package comments

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// helperEnv names the store directory of the writer child process.
const helperEnv = "CANOPY_COMMENTS_HELPER_DIR"

// helperWriter is the child of TestKill9KeepsAcknowledged (run from
// TestMain): 16 goroutines Put comments for ever and print each ID once its
// Put has returned, that is once it is acknowledged as durable. Half of
// them use PutReplica, whose writes are not flushed but must survive the
// process being killed all the same (the kernel holds them).
func helperWriter(dir string) int {
	s, err := Open(StoreParams{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s.Start(context.Background())
	var mu sync.Mutex
	out := os.Stdout // unbuffered: one write(2) per line
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				c := mk("demo", fmt.Sprint("w", w), fmt.Sprint("comment ", i), time.Now().UnixMilli(), uint32(w), uint64(w)<<32|uint64(i))
				put := s.Put
				if w%2 == 1 {
					put = s.PutReplica
				}
				if _, err := put(context.Background(), []Comment{c}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				mu.Lock()
				_, err := fmt.Fprintln(out, c.ID)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return 1 // only reached on error: the parent kills us first
}

// TestKill9KeepsAcknowledged kills a writer process with SIGKILL while it
// is writing and checks that every comment it acknowledged is stored.
func TestKill9KeepsAcknowledged(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t, 60*time.Second)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 3000
	var acked []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		acked = append(acked, sc.Text())
		if len(acked) == killAfter {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Lines written before the kill are still read above, until EOF.
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer did not die of SIGKILL: %v; stderr:\n%s", err, stderr.String())
	}
	if len(acked) < killAfter {
		t.Fatalf("only %d acknowledged before the writer died; stderr:\n%s", len(acked), stderr.String())
	}
	s := openTest(t, StoreParams{Dir: dir})
	missing := 0
	for _, id := range acked {
		if !s.Has(id) {
			missing++
		}
	}
	n, _ := s.Count("demo")
	t.Logf("%d acknowledged before SIGKILL, %d stored after restart", len(acked), n)
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged comments lost after kill -9", missing, len(acked))
	}
	if n < len(acked) {
		t.Fatalf("Count %d < %d acknowledged", n, len(acked))
	}
}
