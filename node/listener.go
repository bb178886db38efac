package node

import "net"

// sendBufferBytes is the kernel send buffer asked for on each accepted HTTP
// connection. A segment is 0.1–2 MiB; with the default (auto-tuned from
// 16 KiB) sendfile fills the buffer, returns EAGAIN and waits for the
// socket to drain several times per segment, and every wait is a trip
// through the netpoller. With room for a whole segment one sendfile call
// usually hands it all to the kernel. Measured with bench/nodehttp: see
// docs/BENCHMARKS.md.
const sendBufferBytes = 4 << 20

// Listener wraps l so that every accepted TCP connection gets a send
// buffer sized for whole segments. Serve the node's Handler on it.
func Listener(l net.Listener) net.Listener {
	tl, ok := l.(*net.TCPListener)
	if !ok {
		return l
	}
	return tunedListener{tl}
}

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
