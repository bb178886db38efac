package node

import (
	"context"
	"net"
	"net/http"
	"syscall"
)

// sendBufferBytes is the kernel send buffer asked for on each accepted HTTP
// connection. A segment is 0.1–2 MiB; with the default (auto-tuned from
// 16 KiB) sendfile fills the buffer, returns EAGAIN and waits for the
// socket to drain several times per segment. With room for a whole segment
// one sendfile call usually hands it all to the kernel.
const sendBufferBytes = 4 << 20

// TuneServer prepares srv, which will serve the node's Handler on l, for
// segments: every accepted TCP connection gets a send buffer sized for a
// whole segment, and the handler can reach its connection to cork it while
// a segment goes out (see corkFor). It returns the listener to serve on.
// Measured with bench/nodehttp; see docs/BENCHMARKS.md.
func TuneServer(srv *http.Server, l net.Listener) net.Listener {
	prev := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prev != nil {
			ctx = prev(ctx, c)
		}
		return context.WithValue(ctx, connKey{}, c)
	}
	tl, ok := l.(*net.TCPListener)
	if !ok {
		return l
	}
	return tunedListener{tl}
}

type connKey struct{}

type tunedListener struct{ *net.TCPListener }

func (l tunedListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	// Best effort: the kernel caps it at net.core.wmem_max, and a
	// connection that keeps the default buffer still works.
	_ = c.SetWriteBuffer(sendBufferBytes)
	return c, nil
}

// corkFor sets TCP_CORK on the request's connection, when TuneServer gave
// the handler one, so that the response headers, the first body bytes
// net/http copies itself and the sendfile'd rest leave as full segments
// rather than a small packet and then the body: the client wakes once per
// response instead of twice. The returned function flushes the response and
// uncorks; it must be called (deferred) before the handler returns.
func corkFor(w http.ResponseWriter, r *http.Request) (uncork func()) {
	c, ok := r.Context().Value(connKey{}).(*net.TCPConn)
	if !ok {
		return func() {}
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return func() {}
	}
	set := func(v int) {
		_ = rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, v)
		})
	}
	set(1)
	return func() {
		_ = http.NewResponseController(w).Flush()
		set(0)
	}
}
