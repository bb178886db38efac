package origin

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	rtmp "github.com/yutopp/go-rtmp"
	rtmpmsg "github.com/yutopp/go-rtmp/message"
)

// rtmpServer accepts publishers. go-rtmp does the protocol; this type adds
// the connection limit, the idle timeout and clean shutdown.
type rtmpServer struct {
	o      *Origin
	ln     net.Listener
	srv    *rtmp.Server
	active atomic.Int64
	wg     sync.WaitGroup // one per accepted connection, done in OnClose
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

func newRTMPServer(o *Origin, ln net.Listener) *rtmpServer {
	s := &rtmpServer{o: o, ln: ln, conns: map[net.Conn]struct{}{}}
	s.srv = rtmp.NewServer(&rtmp.ServerConfig{OnConnect: s.onConnect})
	return s
}

func (s *rtmpServer) serve() error {
	err := s.srv.Serve(&limitListener{Listener: s.ln, s: s})
	if errors.Is(err, rtmp.ErrClosed) {
		return nil
	}
	return err
}

func (s *rtmpServer) close() {
	_ = s.srv.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *rtmpServer) onConnect(c net.Conn) (io.ReadWriteCloser, *rtmp.ConnConfig) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(1)
	s.o.metrics.rtmpConns.Inc()
	log := s.o.root.With("component", "rtmp", "remote", c.RemoteAddr().String())
	h := &connHandler{s: s, conn: c, log: log}
	lg := logrus.New()
	lg.Out = io.Discard
	lg.AddHook(h)
	dc := &deadlineConn{Conn: c, timeout: s.o.p.IdleTimeout}
	return dc, &rtmp.ConnConfig{
		Handler: h,
		ControlState: rtmp.StreamControlStateConfig{
			DefaultBandwidthWindowSize: 6 * 1024 * 1024 / 8,
		},
		Logger: lg,
	}
}

func (s *rtmpServer) forget(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.o.metrics.rtmpConns.Dec()
	s.active.Add(-1)
	s.wg.Done()
}

// limitListener closes connections beyond the limit at once, with a log
// line, so a flood cannot starve the publishers already connected.
type limitListener struct {
	net.Listener
	s *rtmpServer
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			// go-rtmp retries every error at once; pace it so a resource
			// shortage does not spin a core.
			time.Sleep(50 * time.Millisecond)
			return nil, err
		}
		if n := l.s.active.Add(1); n > int64(l.s.o.p.MaxConnections) {
			l.s.active.Add(-1)
			l.s.o.refused(c.RemoteAddr().String(), ErrTooManyConns)
			_ = c.Close()
			continue
		}
		return c, nil
	}
}

// deadlineConn gives every read and write the idle timeout: a peer that
// sends nothing for that long is disconnected.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(p)
}

// connHandler handles one RTMP connection. go-rtmp calls it from the
// connection's goroutine only.
type connHandler struct {
	rtmp.DefaultHandler
	s       *rtmpServer
	conn    net.Conn
	log     *slog.Logger
	served  bool
	stream  string
	sess    *session
	refusal error // why the connection was refused, logged once at close
	lastErr string
	watch   *time.Timer
}

// Levels and Fire make connHandler a logrus hook: go-rtmp reports why it
// dropped a connection only through its logger.
func (h *connHandler) Levels() []logrus.Level {
	return []logrus.Level{logrus.ErrorLevel, logrus.WarnLevel}
}

// firstLine drops the stack trace go-rtmp appends to its errors.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func (h *connHandler) Fire(e *logrus.Entry) error {
	h.lastErr = e.Message
	return nil
}

func (h *connHandler) OnServe(*rtmp.Conn) { h.served = true }

func (h *connHandler) OnConnect(_ uint32, cmd *rtmpmsg.NetConnectionConnect) error {
	app := strings.Trim(cmd.Command.App, "/")
	if i := strings.IndexByte(app, '?'); i >= 0 {
		app = app[:i]
	}
	if app != "live" {
		return h.refuse(fmt.Errorf("%w (got %q)", ErrBadApp, app))
	}
	return nil
}

func (h *connHandler) OnPublish(_ *rtmp.StreamContext, _ uint32, cmd *rtmpmsg.NetStreamPublish) error {
	if h.sess != nil {
		return h.refuse(ErrAlreadyLive)
	}
	key := cmd.PublishingName
	if i := strings.IndexByte(key, '?'); i >= 0 {
		key = key[:i]
	}
	id, ok := h.s.o.keys.lookup(key)
	if !ok {
		return h.refuse(ErrUnknownKey)
	}
	h.log = h.log.With("stream", id)
	sess, err := h.s.o.hub.acquire(id, h.log)
	if err != nil {
		return h.refuse(err)
	}
	h.stream, h.sess = id, sess
	h.log.Info("publisher accepted")
	// A publisher that never sends a keyframe is refused like a silent one.
	h.watch = time.AfterFunc(h.s.o.p.IdleTimeout, func() {
		select {
		case <-sess.gotVideo:
		default:
			h.log.Warn("refusing publisher", "reason", ErrNoVideo.Error(), "after", h.s.o.p.IdleTimeout)
			h.s.o.metrics.refused.WithLabelValues(reasonLabel(ErrNoVideo)).Inc()
			_ = h.conn.Close()
		}
	})
	return nil
}

func (h *connHandler) OnSetDataFrame(ts uint32, data *rtmpmsg.NetStreamSetDataFrame) error {
	if h.sess != nil {
		h.sess.onMetadata(ts, data.Payload)
	}
	return nil
}

func (h *connHandler) OnVideo(ts uint32, payload io.Reader) error {
	if h.sess == nil {
		return nil
	}
	if err := h.sess.onVideo(ts, payload); err != nil {
		return h.refuse(err)
	}
	return nil
}

func (h *connHandler) OnAudio(ts uint32, payload io.Reader) error {
	if h.sess == nil {
		return nil
	}
	if err := h.sess.onAudio(ts, payload); err != nil {
		return h.refuse(err)
	}
	return nil
}

func (h *connHandler) refuse(err error) error {
	if h.refusal == nil {
		h.refusal = err
	}
	return err
}

// OnClose logs why the connection ended and hands the stream to its grace
// period.
func (h *connHandler) OnClose() {
	if h.watch != nil {
		h.watch.Stop()
	}
	switch {
	case h.refusal != nil && h.stream != "":
		h.s.o.refused(h.conn.RemoteAddr().String(), h.refusal, "stream", h.stream)
	case h.refusal != nil:
		h.s.o.refused(h.conn.RemoteAddr().String(), h.refusal)
	case !h.served:
		reason := "garbage or incomplete RTMP handshake"
		if strings.Contains(h.lastErr, "timeout") {
			reason = ErrIdle.Error() + " during the handshake"
		}
		h.s.o.refused(h.conn.RemoteAddr().String(), errors.New(reason), "detail", firstLine(h.lastErr))
	case h.sess != nil && strings.Contains(h.lastErr, "timeout"):
		h.log.Warn("publisher dropped", "reason", fmt.Sprintf("%v for %v", ErrIdle, h.s.o.p.IdleTimeout))
	case h.sess != nil:
		h.log.Info("publisher disconnected")
	}
	if h.sess != nil {
		h.sess.close()
		h.s.o.hub.release(h.stream, h.sess)
	}
	h.s.forget(h.conn)
}
