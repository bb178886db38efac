package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// builtBundle is a tree laid out like a built web/dist.
func builtBundle(t *testing.T) fstest.MapFS {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte("console.log('watch')")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return fstest.MapFS{
		"placeholder.txt":               {Data: []byte("not built")},
		"index.html":                    {Data: []byte("<!doctype html><title>list</title>INDEX-PAGE")},
		"watch.html":                    {Data: []byte("<!doctype html><title>watch</title>WATCH-PAGE")},
		"assets/watch-ABCD2345.js":      {Data: []byte("console.log('watch')")},
		"assets/watch-ABCD2345.js.gz":   {Data: gz.Bytes()},
		"assets/watch-ABCD2345.js.map":  {Data: []byte(`{"version":3}`)},
		"assets/style-0f3a9c1d.css":     {Data: []byte("body{margin:0}")},
		"assets/notes.txt":              {Data: []byte("unhashed")},
		"assets/sub/nested-ABCD2345.js": {Data: []byte("nested")},
		"assets/dir-ABCD2345.js/inner":  {Data: []byte("dir")},
	}
}

func newTestServer(t *testing.T, p Params) *httptest.Server {
	t.Helper()
	h, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, srv *httptest.Server, method, path string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// No transparent decompression: the tests look at Content-Encoding.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10e9}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

func TestRoutesBuilt(t *testing.T) {
	srv := newTestServer(t, Params{files: builtBundle(t)})
	long := strings.Repeat("a", 65)
	tests := []struct {
		name, method, path string
		header             map[string]string
		code               int
		ctype, cache, body string // "" = not checked
		encoding           string
	}{
		{name: "index", method: "GET", path: "/", code: 200, ctype: "text/html; charset=utf-8", cache: "no-cache", body: "INDEX-PAGE"},
		{name: "index HEAD", method: "HEAD", path: "/", code: 200, ctype: "text/html; charset=utf-8"},
		{name: "index POST", method: "POST", path: "/", code: 405},
		{name: "unknown path", method: "GET", path: "/nope", code: 404},
		{name: "watch", method: "GET", path: "/watch/demo", code: 200, ctype: "text/html; charset=utf-8", cache: "no-cache", body: "WATCH-PAGE"},
		{name: "watch dots dashes", method: "GET", path: "/watch/my-stream_2.hd", code: 200, body: "WATCH-PAGE"},
		{name: "watch 64 chars", method: "GET", path: "/watch/" + long[:64], code: 200, body: "WATCH-PAGE"},
		{name: "watch 65 chars", method: "GET", path: "/watch/" + long, code: 400},
		{name: "watch bad char", method: "GET", path: "/watch/bad%21name", code: 400},
		{name: "watch space", method: "GET", path: "/watch/a%20b", code: 400},
		{name: "watch non-ascii", method: "GET", path: "/watch/caf%C3%A9", code: 400},
		{name: "watch dotdot", method: "GET", path: "/watch/%2E%2E", code: 400},
		{name: "watch nested", method: "GET", path: "/watch/a/b", code: 404},
		{name: "hashed js", method: "GET", path: "/assets/watch-ABCD2345.js", code: 200, ctype: "text/javascript; charset=utf-8", cache: cacheImmutable, body: "console.log('watch')"},
		{name: "hashed js gzip", method: "GET", path: "/assets/watch-ABCD2345.js", header: map[string]string{"Accept-Encoding": "br, gzip"}, code: 200, ctype: "text/javascript; charset=utf-8", cache: cacheImmutable, encoding: "gzip"},
		{name: "gzip refused", method: "GET", path: "/assets/watch-ABCD2345.js", header: map[string]string{"Accept-Encoding": "gzip;q=0"}, code: 200, body: "console.log('watch')"},
		{name: "source map", method: "GET", path: "/assets/watch-ABCD2345.js.map", header: map[string]string{"Accept-Encoding": "gzip"}, code: 200, ctype: "application/json", cache: cacheImmutable, body: `{"version":3}`},
		{name: "hashed css", method: "GET", path: "/assets/style-0f3a9c1d.css", code: 200, ctype: "text/css; charset=utf-8", cache: cacheImmutable},
		{name: "unhashed asset", method: "GET", path: "/assets/notes.txt", code: 200, cache: "no-cache", body: "unhashed"},
		{name: "missing asset", method: "GET", path: "/assets/gone-ABCD2345.js", code: 404},
		{name: "nested asset", method: "GET", path: "/assets/sub/nested-ABCD2345.js", code: 404},
		{name: "directory asset", method: "GET", path: "/assets/dir-ABCD2345.js", code: 404},
		{name: "unknown type", method: "GET", path: "/assets/x.exe", code: 404},
		{name: "dot file", method: "GET", path: "/assets/.env.js", code: 404},
		{name: "player api", method: "GET", path: "/api/v1/player", code: 200, ctype: "application/json", cache: "no-cache"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, tc.method, tc.path, tc.header)
			if r.code != tc.code {
				t.Fatalf("status %d, want %d (body %q)", r.code, tc.code, r.body)
			}
			if tc.ctype != "" && r.header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", r.header.Get("Content-Type"), tc.ctype)
			}
			if tc.cache != "" && r.header.Get("Cache-Control") != tc.cache {
				t.Errorf("Cache-Control %q, want %q", r.header.Get("Cache-Control"), tc.cache)
			}
			if tc.body != "" && r.body != tc.body && !strings.Contains(r.body, tc.body) {
				t.Errorf("body %q does not contain %q", r.body, tc.body)
			}
			if got := r.header.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, tc.encoding)
			}
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(strings.NewReader(r.body))
				if err != nil {
					t.Fatal(err)
				}
				plain, err := io.ReadAll(zr)
				if err != nil || string(plain) != "console.log('watch')" {
					t.Errorf("gunzipped body %q, %v", plain, err)
				}
			}
		})
	}
}

func TestPageRevalidation(t *testing.T) {
	srv := newTestServer(t, Params{files: builtBundle(t)})
	first := do(t, srv, "GET", "/watch/demo", nil)
	etag := first.header.Get("ETag")
	if first.code != 200 || etag == "" {
		t.Fatalf("first: status %d, ETag %q", first.code, etag)
	}
	again := do(t, srv, "GET", "/watch/other", map[string]string{"If-None-Match": etag})
	if again.code != http.StatusNotModified {
		t.Errorf("revalidation: status %d, want 304", again.code)
	}
	index := do(t, srv, "GET", "/", map[string]string{"If-None-Match": etag})
	if index.code != 200 {
		t.Errorf("index with the watch page's ETag: status %d, want 200", index.code)
	}
}

func TestNotBuilt(t *testing.T) {
	srv := newTestServer(t, Params{files: fstest.MapFS{"placeholder.txt": {Data: []byte("x")}}})
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/", 503, "web app not built: run `make web`"},
		{"/watch/demo", 503, "web app not built: run `make web`"},
		{"/watch/bad!", 400, "invalid stream name"},
		{"/assets/watch-ABCD2345.js", 503, "web app not built"},
		{"/api/v1/player", 200, `"public_key":""`},
	}
	for _, tc := range tests {
		r := do(t, srv, "GET", tc.path, nil)
		if r.code != tc.code || !strings.Contains(r.body, tc.body) {
			t.Errorf("GET %s: %d %q, want %d containing %q", tc.path, r.code, r.body, tc.code, tc.body)
		}
	}
}

func TestIncompleteBundle(t *testing.T) {
	_, err := New(Params{files: fstest.MapFS{"index.html": {Data: []byte("x")}}})
	if !errors.Is(err, ErrBadBundle) {
		t.Fatalf("New with index.html only: %v, want ErrBadBundle", err)
	}
}

func TestPlayerInfo(t *testing.T) {
	tests := []struct {
		name     string
		p        Params
		key      string
		trackers []string
	}{
		{name: "nothing known", p: Params{}, key: "", trackers: []string{}},
		{name: "empty tracker list", p: Params{
			PublicKey: func() string { return "a2V5" },
			Trackers:  func(*http.Request) []string { return nil },
		}, key: "a2V5", trackers: []string{}},
		{name: "trackers from request", p: Params{
			PublicKey: func() string { return "a2V5" },
			Trackers: func(r *http.Request) []string {
				return []string{"ws://" + r.Host + "/tracker", "wss://t.example/tracker"}
			},
		}, key: "a2V5", trackers: []string{"ws://HOST/tracker", "wss://t.example/tracker"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.files = builtBundle(t)
			srv := newTestServer(t, tc.p)
			r := do(t, srv, "GET", "/api/v1/player", nil)
			var got playerInfo
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatalf("decode %q: %v", r.body, err)
			}
			host := strings.TrimPrefix(srv.URL, "http://")
			for i := range tc.trackers {
				tc.trackers[i] = strings.ReplaceAll(tc.trackers[i], "HOST", host)
			}
			if got.PublicKey != tc.key || strings.Join(got.Trackers, " ") != strings.Join(tc.trackers, " ") || got.Trackers == nil {
				t.Errorf("got %+v, want key %q trackers %q", got, tc.key, tc.trackers)
			}
		})
	}
}

// TestEmbeddedBundle checks the real embedded tree: the pages are served
// when the bundle was built and answer 503 when it holds only the
// placeholder. Either way the placeholder is there, so go:embed compiles on
// a fresh clone.
func TestEmbeddedBundle(t *testing.T) {
	if _, err := fs.Stat(bundle, "dist/placeholder.txt"); err != nil {
		t.Fatalf("placeholder missing from the embedded bundle: %v", err)
	}
	_, err := fs.Stat(bundle, "dist/"+watchPage)
	built := err == nil
	srv := newTestServer(t, Params{})
	for _, path := range []string{"/", "/watch/demo"} {
		r := do(t, srv, "GET", path, nil)
		want := http.StatusServiceUnavailable
		if built {
			want = http.StatusOK
		}
		if r.code != want {
			t.Errorf("GET %s: status %d, want %d (bundle built: %v)", path, r.code, want, built)
		}
		if built && !strings.Contains(r.body, "/assets/") {
			t.Errorf("GET %s: page does not reference /assets/: %q", path, r.body)
		}
	}
}
