package main

import (
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

// The load client runs in a child process (this program with -load-client)
// for both trackers, so that its goroutines, heap and garbage collection
// are never charged to the tracker measured in this process.

// clientResult is the child's one line of output.
type clientResult struct {
	LatenciesUS []int64 `json:"latencies_us"` // sorted
	Counters    string  `json:"counters"`
	Error       string  `json:"error,omitempty"`
}

var errClient = errors.New("load client failed")

// runLoadClient is the child's main: connect every peer, run the rounds,
// print the result, then keep the sockets open (peers idle, for the
// parent's memory reading) until stdin closes.
func runLoadClient(ctx context.Context, cfg config, stdin io.Reader, out io.Writer) error {
	res := clientResult{}
	err := raiseFDLimit(cfg.peers + 256)
	var l *load
	if err == nil {
		l, err = connect(ctx, cfg, cfg.loadClient)
	}
	if err == nil {
		defer l.close()
		err = l.run(ctx)
	}
	if l != nil {
		for _, d := range l.sortedLatencies() {
			res.LatenciesUS = append(res.LatenciesUS, d.Microseconds())
		}
		res.Counters = l.counters()
	}
	if err != nil {
		res.Error = err.Error()
	}
	if e := json.NewEncoder(out).Encode(res); e != nil {
		return e
	}
	_, _ = io.Copy(io.Discard, stdin)
	return err
}

// loadProc is the parent's handle on a load client child.
type loadProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *lineReader
}

func startLoadClient(ctx context.Context, cfg config, url string) (*loadProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-load-client", url, "-peers", strconv.Itoa(cfg.peers),
		"-swarms", strconv.Itoa(cfg.swarms), "-rounds", strconv.Itoa(cfg.rounds), "-spread", cfg.spread.String())
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
	return &loadProc{cmd: cmd, stdin: stdin, out: newLineReader(cmd, stdout)}, nil
}

// result waits for the child's measurements; its peers stay connected.
func (p *loadProc) result(ctx context.Context) ([]time.Duration, string, error) {
	wait := 10 * time.Minute
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	line, err := p.out.next(wait)
	if err != nil {
		return nil, "", err
	}
	var res clientResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return nil, "", fmt.Errorf("%w: %v", errClient, err)
	}
	if res.Error != "" {
		return nil, "", fmt.Errorf("%w: %s", errClient, res.Error)
	}
	lat := make([]time.Duration, len(res.LatenciesUS))
	for i, us := range res.LatenciesUS {
		lat[i] = time.Duration(us) * time.Microsecond
	}
	return lat, res.Counters, nil
}

func (p *loadProc) stop() { stopChild(p.cmd, p.stdin, 30*time.Second) }
