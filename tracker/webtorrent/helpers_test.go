package webtorrent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testTimeout = 5 * time.Second

// relayHeader marks relay clients in tests (the real format is proto's).
const relayHeader = "X-Test-Relay"

func testRelayAuth(r *http.Request) (string, bool) {
	id := r.Header.Get(relayHeader)
	return id, id != ""
}

// fakeClock is a manually advanced clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testTracker is a Server behind a real HTTP server on 127.0.0.1:0.
type testTracker struct {
	*Server
	url    string // ws://.../tracker
	http   string // http://...
	closed chan struct{}

	smallSendBuffers bool // server sockets get an 8 KiB send buffer
}

// smallBufListener shrinks accepted sockets' send buffers, so that a
// client that stops reading blocks the server's writes quickly.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

func startTracker(t *testing.T, p Params) *testTracker {
	t.Helper()
	return startTrackerWith(t, p, false)
}

func startTrackerWith(t *testing.T, p Params, smallSendBuffers bool) *testTracker {
	t.Helper()
	s, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tt := &testTracker{Server: s, closed: make(chan struct{}, 1024), smallSendBuffers: smallSendBuffers}
	hs := newHTTPServer(t, s, tt)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		hs.Close()
	})
	return tt
}

// newHTTPServer serves s on 127.0.0.1:0 and fills tt's URLs.
func newHTTPServer(t *testing.T, s *Server, tt *testTracker) *httptest.Server {
	t.Helper()
	s.connDone = func() { tt.closed <- struct{}{} }
	mux := http.NewServeMux()
	mux.Handle("GET /tracker", s)
	mux.Handle("GET /tracker/stats", s.StatsHandler())
	hs := httptest.NewUnstartedServer(mux)
	if tt.smallSendBuffers {
		hs.Listener = smallBufListener{hs.Listener}
	}
	hs.Start()
	tt.http = hs.URL
	tt.url = "ws" + strings.TrimPrefix(hs.URL, "http") + "/tracker"
	return hs
}

// waitClosed waits until n connections have been cleaned up.
func (tt *testTracker) waitClosed(t *testing.T, n int) {
	t.Helper()
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	for range n {
		select {
		case <-tt.closed:
		case <-timer.C:
			t.Fatalf("connection cleanup not seen within %v", testTimeout)
		}
	}
}

// client is a test WebSocket client.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, tt *testTracker, h http.Header) *client {
	t.Helper()
	c, err := tryDial(t, tt, h)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func tryDial(t *testing.T, tt *testTracker, h http.Header) (*client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, tt.url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("status %d: %w", resp.StatusCode, err)
		}
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return c, nil
}

// dialFrom dials as if from addr (the tracker must trust X-Forwarded-For).
func dialFrom(t *testing.T, tt *testTracker, addr string, relay bool) *client {
	h := http.Header{"X-Forwarded-For": {addr}}
	if relay {
		h.Set(relayHeader, "relay-"+addr)
	}
	return dial(t, tt, h)
}

func (c *client) sendRaw(data []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatalf("marshal: %v", err)
	}
	c.sendRaw(b)
}

// recv returns the next message, decoded.
func (c *client) recv() map[string]any {
	c.t.Helper()
	m, err := c.tryRecv()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

func (c *client) tryRecv() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("bad JSON from tracker %q: %w", data, err)
	}
	return m, nil
}

// expectClose reads until the socket closes and returns the close error.
func (c *client) expectClose() websocket.CloseError {
	c.t.Helper()
	ce := c.expectCloseQuiet()
	if ce.Code == 0 {
		c.t.Fatalf("socket ended without a close frame: %v", ce.Reason)
	}
	return ce
}

// expectCloseQuiet is expectClose for other goroutines: a zero Code means
// the socket ended without a close frame (Reason then holds the error).
func (c *client) expectCloseQuiet() websocket.CloseError {
	for {
		_, err := c.tryRecv()
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			return websocket.CloseError{Reason: err.Error()}
		}
		return ce
	}
}

// announce sends an announce and returns its reply, collecting any
// relayed messages that arrive first into the returned slice.
func (c *client) announce(hash, peer string, numwant int, offers []map[string]any, event string) map[string]any {
	c.t.Helper()
	msg := map[string]any{"action": "announce", "info_hash": hash, "peer_id": peer, "numwant": numwant,
		"uploaded": 0, "downloaded": 0}
	if event != "" {
		msg["event"] = event
	}
	if offers != nil {
		msg["offers"] = offers
	}
	c.send(msg)
	r := c.recv()
	if _, ok := r["interval"]; !ok {
		c.t.Fatalf("announce reply without interval: %v", r)
	}
	return r
}

// sync proves nothing else is queued for c: it scrapes and requires the
// scrape reply to be the next message.
func (c *client) sync(hash string) {
	c.t.Helper()
	c.send(map[string]any{"action": "scrape", "info_hash": hash})
	if r := c.recv(); r["action"] != "scrape" {
		c.t.Fatalf("unexpected message before scrape reply: %v", r)
	}
}

// id20 makes a 20-character ID from a prefix.
func id20(prefix string) string {
	return (prefix + strings.Repeat("x", 20))[:20]
}

func offers(n int, tag string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{
			"offer":    map[string]any{"type": "offer", "sdp": fmt.Sprintf("v=0\r\no=- %s %d IN IP4 0.0.0.0\r\n", tag, i)},
			"offer_id": id20(fmt.Sprintf("%s-%d-", tag, i)),
		}
	}
	return out
}
