package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/proto"
)

// TestHTTPHandler serves a relay node's cache (filled over the tree) and
// checks playlists, a segment that verifies against its Canopy-Record
// header, records.json, DASH, CORS and metrics.
func TestHTTPHandler(t *testing.T) {
	o := newOrigin(t, 2, 3<<10)
	root := newTestNode(t, o, true)
	reg := prometheus.NewRegistry()
	h := newTestHost(t)
	n, err := New(Params{Host: h, OriginKey: o.pub, Streams: []string{testStream}, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	if err := n.Assign(testStream, addrOf(root), addrOf(root)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "attached", func() bool { return children(root) == 1 })
	o.publishInits(t, root)
	for seq := range uint64(5) {
		o.publishColumn(t, root, seq)
	}
	eventually(t, 10*time.Second, "segments", func() bool { return hasAll(n, o, 5) })

	srv := httptest.NewServer(n.Handler())
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Origin", "https://player.example")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	cases := []struct {
		path, ctype, cache string
		code               int
		contains           []string
	}{
		{"/live/demo/master.m3u8", "application/vnd.apple.mpegurl", cacheLive, 200, []string{"#EXTM3U", "r1/index.m3u8", "r0/index.m3u8", `CODECS="avc1.64001f,mp4a.40.2"`}},
		{"/live/demo/r0/index.m3u8", "application/vnd.apple.mpegurl", cacheLive, 200, []string{`#EXT-X-MAP:URI="init-0.mp4"`, "0.m4s", "4.m4s", "#EXT-X-MEDIA-SEQUENCE:0"}},
		{"/live/demo/manifest.mpd", "application/dash+xml", cacheLive, 200, []string{`type="dynamic"`, "r1"}},
		{"/live/demo/r1/records.json?since=3", "application/json", cacheLive, 200, []string{`"sequence":3`, `"sequence":4`}},
		{"/live/demo/r0/init-0.mp4", "video/mp4", cacheImmutable, 200, nil},
		{"/live/nope/master.m3u8", "text/plain; charset=utf-8", "no-store", 404, nil},
		{"/live/demo/r0/99.m4s", "text/plain; charset=utf-8", "no-store", 404, nil},
		{"/live/demo/r0/../x", "", "", 404, nil},
		{"/live/demo/r9/index.m3u8", "text/plain; charset=utf-8", "no-store", 404, nil},
		{"/metrics", "", "", 200, []string{"canopy_node_segments_total"}},
	}
	for _, tc := range cases {
		resp, body := get(tc.path)
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d (%s)", tc.path, resp.StatusCode, tc.code, body)
			continue
		}
		if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		}
		if tc.cache != "" && resp.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("%s: Cache-Control %q, want %q", tc.path, resp.Header.Get("Cache-Control"), tc.cache)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header", tc.path)
		}
		for _, s := range tc.contains {
			if !strings.Contains(body, s) {
				t.Errorf("%s: body lacks %q:\n%s", tc.path, s, body)
			}
		}
	}

	resp, body := get("/live/demo/r1/3.m4s")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != cacheImmutable || resp.Header.Get("Content-Type") != "video/iso.segment" {
		t.Fatalf("segment: %d %v", resp.StatusCode, resp.Header)
	}
	var rec proto.Segment
	if err := json.Unmarshal([]byte(resp.Header.Get("Canopy-Record")), &rec); err != nil {
		t.Fatalf("Canopy-Record: %v", err)
	}
	if err := rec.VerifyData(o.pub, []byte(body)); err != nil {
		t.Fatalf("served segment does not verify: %v", err)
	}
	if rec.Rendition != "r1" || rec.Sequence != 3 || rec.Kind != proto.KindMedia {
		t.Errorf("record %+v", rec)
	}
}
