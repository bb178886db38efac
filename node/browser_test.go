package node

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/manifest"
)

// The super-peer's view of the node: the same renditions as the node's
// master playlist (p2p-media-loader keys swarms on them), the verified
// segments held, and an event for each new one.
func TestBrowserSource(t *testing.T) {
	o := newOrigin(t, 2, 4096)
	root := newTestNode(t, o, true)
	src := root.BrowserSource()
	events, cancel := src.Subscribe()
	defer cancel()
	if got := src.Streams(); len(got) != 0 {
		t.Fatalf("Streams before any broadcast = %+v", got)
	}
	o.publishInits(t, root)
	o.publishColumn(t, root, 0)
	o.publishColumn(t, root, 1)

	got := src.Streams()
	if len(got) != 1 || got[0].Stream != testStream || got[0].Broadcast != "b1" {
		t.Fatalf("Streams = %+v", got)
	}
	// Every variant attribute the master playlist carries must match.
	mb, err1 := manifest.HLSMultivariant(got[0].Renditions)
	wb, err2 := manifest.HLSMultivariant(view{info: root.Info(testStream)}.renditions())
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if master, want := string(mb), string(wb); master != want {
		t.Fatalf("super-peer renditions render\n%s\nnode master renders\n%s", master, want)
	}
	if !strings.Contains(string(mb), "BANDWIDTH=1000000") {
		t.Fatalf("master lacks the declared bandwidth:\n%s", mb)
	}
	if have := src.Have(testStream, "r1"); !slices.Equal(have, []uint64{0, 1}) {
		t.Fatalf("Have = %v", have)
	}
	data, ok := src.Segment(testStream, "r1", 1)
	if _, want, _ := root.Segment(testStream, "r1", proto.KindMedia, 1); !ok || !bytes.Equal(data, want) || len(data) != 4096 {
		t.Fatalf("Segment = %d bytes, %v", len(data), ok)
	}
	if _, ok := src.Segment(testStream, "r1", 7); ok {
		t.Fatal("Segment 7 should be absent")
	}

	// Events: one EventStreams for the new broadcast, then one per media
	// segment (inits are not announced to browsers).
	want := map[superpeer.Event]bool{
		{Kind: superpeer.EventStreams, Stream: testStream}:                          false,
		{Kind: superpeer.EventSegment, Stream: testStream, Rendition: "r0", Seq: 0}: false,
		{Kind: superpeer.EventSegment, Stream: testStream, Rendition: "r1", Seq: 0}: false,
		{Kind: superpeer.EventSegment, Stream: testStream, Rendition: "r0", Seq: 1}: false,
		{Kind: superpeer.EventSegment, Stream: testStream, Rendition: "r1", Seq: 1}: false,
	}
	timeout := time.After(5 * time.Second)
	for seen := 0; seen < len(want); {
		select {
		case e := <-events:
			if done, known := want[e]; !known || done {
				t.Fatalf("unexpected event %+v", e)
			}
			want[e] = true
			seen++
		case <-timeout:
			t.Fatalf("events missing: %+v", want)
		}
	}

	// An ended broadcast is no longer offered to browsers.
	ended := o.info
	ended.Ended = true
	if err := root.Announce(ended); err != nil {
		t.Fatal(err)
	}
	if got := src.Streams(); len(got) != 0 {
		t.Fatalf("Streams after the end = %+v", got)
	}
}

// A subscriber that never reads loses events instead of blocking the node.
func TestBrowserEventsNeverBlock(t *testing.T) {
	var h eventHub
	_, cancel := h.subscribe()
	defer cancel()
	for i := range browserQueueLen + 10 {
		h.notify(superpeer.Event{Kind: superpeer.EventSegment, Seq: uint64(i)})
	}
	if d := h.dropped.Load(); d != 10 {
		t.Fatalf("dropped %d, want 10", d)
	}
	cancel()
	h.notify(superpeer.Event{}) // no subscriber left: nothing to drop
	if d := h.dropped.Load(); d != 10 {
		t.Fatalf("dropped %d after cancel, want 10", d)
	}
}

func TestRelayAuthHeaderVerifies(t *testing.T) {
	o := newOrigin(t, 1, 1024)
	n := newTestNode(t, o, false)
	h := n.RelayAuthHeader("ws://10.0.0.5:8080/tracker")
	id, err := proto.VerifyRelayAuth(h.Get(proto.RelayAuthHeader), "10.0.0.5:8080", time.Now())
	if err != nil || id != n.p.Host.ID() {
		t.Fatalf("VerifyRelayAuth = %v, %v; want %v", id, err, n.p.Host.ID())
	}
	if _, err := proto.VerifyRelayAuth(h.Get(proto.RelayAuthHeader), "10.0.0.6:8080", time.Now()); err == nil {
		t.Fatal("header verified for another host")
	}
	if h := n.RelayAuthHeader("::not a url"); h != nil {
		t.Fatalf("header for a bad URL: %v", h)
	}
}

func TestStreamsAPI(t *testing.T) {
	o := newOrigin(t, 2, 1024)
	root := newTestNode(t, o, true)
	o.publishInits(t, root)
	o.publishColumn(t, root, 0)
	rec := httptest.NewRecorder()
	root.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/streams", nil))
	var got []streamJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if len(got) != 1 || got[0].ID != testStream || got[0].Broadcast != "b1" || !got[0].Live || len(got[0].Renditions) != 2 ||
		got[0].Renditions[1].Name != "r1" || got[0].Renditions[1].Bandwidth != 2_000_000 {
		t.Fatalf("streams = %+v", got)
	}
}

// A media playlist is rendered once per cache change and served again
// until the next segment, which must show at once.
func TestPlaylistCachedUntilNextSegment(t *testing.T) {
	o := newOrigin(t, 1, 1024)
	root := newTestNode(t, o, true)
	o.publishInits(t, root)
	o.publishColumn(t, root, 0)
	get := func() string {
		rec := httptest.NewRecorder()
		root.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/live/"+testStream+"/r0/index.m3u8", nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != cacheLive {
			t.Fatalf("%d %q: %s", rec.Code, rec.Header().Get("Cache-Control"), rec.Body)
		}
		return rec.Body.String()
	}
	first := get()
	s := root.stream(testStream, false)
	s.mu.Lock()
	cached, gen := s.cache.rendered["media/r0"], s.cache.gen
	s.mu.Unlock()
	if cached.gen != gen || string(cached.body) != first {
		t.Fatalf("not cached after the first request (gen %d, cached gen %d)", gen, cached.gen)
	}
	if again := get(); again != first {
		t.Fatalf("cached playlist differs:\n%s\n%s", first, again)
	}
	o.publishColumn(t, root, 1)
	if next := get(); next == first || !strings.Contains(next, "1.m4s") {
		t.Fatalf("playlist after segment 1 is stale:\n%s", next)
	}
	rec := httptest.NewRecorder()
	root.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/live/"+testStream+"/nope/index.m3u8", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unknown rendition: %d", rec.Code)
	}
	s.mu.Lock()
	_, stored := s.cache.rendered["media/nope"]
	s.mu.Unlock()
	if stored {
		t.Fatal("an unknown rendition's 404 was cached")
	}
}
