package node

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/canopylive/canopy/proto"
)

func TestListenerSizesSendBuffer(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := TuneServer(&http.Server{}, raw)
	t.Cleanup(func() { _ = l.Close() })
	dialed := make(chan net.Conn, 1)
	go func() {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Error(err)
		}
		dialed <- c
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if dc := <-dialed; dc != nil {
		t.Cleanup(func() { _ = dc.Close() })
	}
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		got, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
	}); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	// Linux doubles the request and caps it at wmem_max (doubled).
	want := sendBufferBytes
	if b, err := os.ReadFile("/proc/sys/net/core/wmem_max"); err == nil {
		if m, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && m < want {
			want = m
		}
	}
	if got < want {
		t.Fatalf("SO_SNDBUF = %d, want ≥ %d", got, want)
	}
}

// Through a tuned server a segment arrives whole and the connection is
// uncorked afterwards (a corked socket would hold the next response's tail).
func TestTunedServerServesSegments(t *testing.T) {
	o := newOrigin(t, 1, 200<<10) // above memoryServeMax: the sendfile path
	root := newTestNode(t, o, true)
	o.publishInits(t, root)
	o.publishColumn(t, root, 0)
	o.publishColumn(t, root, 1)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// After each response (the connection goes idle) the socket must be
	// uncorked, or the kernel would hold the tail of the next one.
	var idle, corked atomic.Int32
	srv := &http.Server{Handler: root.Handler(), ConnState: func(c net.Conn, st http.ConnState) {
		if st != http.StateIdle {
			return
		}
		rc, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			return
		}
		_ = rc.Control(func(fd uintptr) {
			if v, err := syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK); err == nil && v != 0 {
				corked.Add(1)
			}
		})
		idle.Add(1)
	}}
	l := TuneServer(srv, raw)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	c := &http.Client{Timeout: 5 * time.Second}
	for _, seq := range []uint64{0, 1, 0} { // one keep-alive connection, several responses
		resp, err := c.Get("http://" + l.Addr().String() + "/live/" + testStream + "/r0/" + strconv.FormatUint(seq, 10) + ".m4s")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("segment %d: %v %v", seq, resp.Status, err)
		}
		_, want, _ := root.Segment(testStream, "r0", proto.KindMedia, seq)
		if string(body) != string(want) {
			t.Fatalf("segment %d: %d bytes, want %d identical", seq, len(body), len(want))
		}
	}
	if idle.Load() == 0 || corked.Load() != 0 {
		t.Fatalf("idle %d times, corked when idle %d times", idle.Load(), corked.Load())
	}
}
