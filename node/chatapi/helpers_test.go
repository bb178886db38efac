package chatapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/node/comments"
	"github.com/canopylive/canopy/node/commentsync"
)

const (
	testStream = "demo"
	streamKey  = "secret-stream-key"
)

// env is one node's conversation stack behind an httptest server: a real
// Badger store, a real libp2p host and commentsync, and the API.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *comments.Store
	sync  *commentsync.Sync
	hub   *Hub
	key   ed25519.PrivateKey
}

type envOpts struct {
	signer    bool               // the server holds the broadcaster key (the origin)
	trust     ed25519.PrivateKey // the broadcaster key, when not a fresh one
	queueSize int
}

// newEnvTrusting is a relay node that trusts origin's broadcaster key.
func newEnvTrusting(t *testing.T, origin *env) *env {
	return newEnv(t, envOpts{trust: origin.key})
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{t: t}
	_, e.key, _ = ed25519.GenerateKey(nil)
	if o.trust != nil {
		e.key = o.trust
	}
	var err error
	e.store, err = comments.Open(comments.StoreParams{Dir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	e.store.Start(ctx)
	clock, err := comments.NewClock(comments.ClockParams{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := p2p.NewHost(p2p.HostParams{Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	e.hub, err = NewHub(HubParams{Logger: log, QueueSize: o.queueSize})
	if err != nil {
		t.Fatal(err)
	}
	e.sync, err = commentsync.New(commentsync.Params{Host: h, Store: e.store, Clock: clock, Logger: log,
		ModeratorKey: e.key.Public().(ed25519.PublicKey), TallyInterval: 50 * time.Millisecond,
		Delivered: e.hub.Comment, Moderated: e.hub.Moderation, Tallied: e.hub.Tally, Viewers: e.hub.Viewers})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sync.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.sync.Join(testStream); err != nil {
		t.Fatal(err)
	}
	climit, _ := comments.NewRateLimiter(comments.RateLimiterParams{})
	rlimit, _ := comments.NewRateLimiter(comments.RateLimiterParams{PerAddress: comments.Bucket{Rate: 5, Burst: 20}})
	p := Params{Hub: e.hub, Sync: e.sync, Store: e.store, Clock: clock, Logger: log,
		Streams:  func(s string) bool { return s == testStream },
		Comments: climit, Reactions: rlimit}
	if o.signer {
		p.Signer = e.key
		p.Authorize = func(stream, token string) bool { return stream == testStream && token == streamKey }
	}
	api, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.srv.CloseClientConnections()
		e.srv.Close()
		_ = e.sync.Close()
		_ = h.Close()
		cancel()
		_ = e.store.Close()
	})
	return e
}

// do sends a request with an optional JSON (or raw string) body and
// bearer token; it returns the status and the decoded JSON body.
func (e *env) do(method, path string, body any, token string) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (e *env) count() int {
	n, err := e.store.Count(testStream)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// sse is an open event feed.
type sse struct {
	events chan sseEvent
	resp   *http.Response
}

type sseEvent struct {
	name, id string
	data     map[string]any
}

func (e *env) subscribe(lastID string) *sse {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/streams/"+testStream+"/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{events: make(chan sseEvent, 1024), resp: resp}
	e.t.Cleanup(func() { resp.Body.Close() })
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = line[7:]
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(line[6:]), &ev.data)
			}
		}
	}()
	return s
}

// next returns the next event named name, skipping others.
func (s *sse) next(t *testing.T, name string, d time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("feed closed before a %q event", name)
			}
			if ev.name == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within %v", name, d)
		}
	}
}
