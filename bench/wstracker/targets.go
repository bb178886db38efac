package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/canopylive/canopy/tracker/webtorrent"

	"github.com/canopylive/canopy/internal/benchutil"
)

// goTracker is Canopy's tracker on a loopback HTTP server in this process.
type goTracker struct {
	srv *webtorrent.Server
	hs  *http.Server
	ln  net.Listener
	url string
}

func startGoTracker() (*goTracker, error) {
	srv, err := webtorrent.New(webtorrent.Params{})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /tracker", srv)
	g := &goTracker{srv: srv, ln: ln, hs: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		url: "ws://" + ln.Addr().String() + "/tracker"}
	go func() { _ = g.hs.Serve(ln) }()
	return g, nil
}

func (g *goTracker) close() {
	_ = g.srv.Close()
	_ = g.hs.Close()
}

// nodeTracker is bittorrent-tracker's Server (WebSocket only) in a child
// node process running nodetracker.mjs.
type nodeTracker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *lineReader
	url   string
}

var (
	errNodeStart = errors.New("bittorrent-tracker server did not start")
	errNodeReply = errors.New("unexpected line from node")
)

// startNodeTracker runs the server; the error says why it cannot run.
func startNodeTracker(ctx context.Context, btDir, script string) (*nodeTracker, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("no node on PATH: %w", err)
	}
	if _, err := os.Stat(filepath.Join(btDir, "server.js")); err != nil {
		return nil, fmt.Errorf("no bittorrent-tracker at %s (run npm ci --ignore-scripts in web/): %w", btDir, err)
	}
	cmd := exec.CommandContext(ctx, node, "--expose-gc", script, btDir)
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
	n := &nodeTracker{cmd: cmd, stdin: stdin, out: newLineReader(cmd, stdout)}
	line, err := n.out.next(10 * time.Second)
	var hello struct{ Port int }
	if err == nil {
		err = json.Unmarshal([]byte(line), &hello)
	}
	if err != nil || hello.Port == 0 {
		n.stop()
		return nil, fmt.Errorf("%w: %q %v", errNodeStart, line, err)
	}
	n.url = "ws://127.0.0.1:" + strconv.Itoa(hello.Port) + "/"
	return n, nil
}

// gc runs a full collection in the child, for a fair RSS reading.
func (n *nodeTracker) gc() error {
	if _, err := io.WriteString(n.stdin, "gc\n"); err != nil {
		return err
	}
	line, err := n.out.next(30 * time.Second)
	if err == nil && line != "gc-done" {
		err = fmt.Errorf("%w: %q", errNodeReply, line)
	}
	return err
}

func (n *nodeTracker) rss() (int64, error) { return benchutil.RSSOf(strconv.Itoa(n.cmd.Process.Pid)) }

func (n *nodeTracker) stop() { stopChild(n.cmd, n.stdin, 10*time.Second) }
