package origin

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/canopylive/canopy/proto"
)

// archivedOrigin starts a real origin whose store already holds one ended
// broadcast of stream "old" with two renditions and three segments each.
func archivedOrigin(t testing.TB) *Origin {
	t.Helper()
	dir := t.TempDir()
	st, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := testKey(t)
	bc := "20260101T000000Z-abcdef"
	rends := []RenditionInfo{
		{Name: "720p", Width: 1280, Height: 720, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30},
		{Name: "144p", Width: 256, Height: 144, Codecs: "avc1.4d400c,mp4a.40.2", FrameRate: 30},
	}
	if err := st.PutMeta(BroadcastMeta{Stream: "old", Broadcast: bc, Renditions: rends, Ended: true}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range rends {
		init := proto.Seal(proto.Segment{Stream: "old", Broadcast: bc, Rendition: r.Name, Kind: proto.KindInit}, []byte("init-"+r.Name), key)
		if err := st.Put(init, []byte("init-"+r.Name)); err != nil {
			t.Fatal(err)
		}
		for seq := uint64(0); seq < 3; seq++ {
			data := []byte(strings.Repeat(r.Name, int(seq)+10))
			rec := proto.Seal(proto.Segment{Stream: "old", Broadcast: bc, Rendition: r.Name, Kind: proto.KindMedia, Sequence: seq,
				Start: time.Duration(seq) * 2 * time.Second, Duration: 2 * time.Second, ProgramDateTime: t0.Add(time.Duration(seq) * 2 * time.Second)}, data, key)
			if err := st.Put(rec, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	o, err := New(Params{HTTPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0", Key: key, Store: st, LogDir: dir,
		CORSOrigins: []string{"https://player.example"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

func TestHTTPSurface(t *testing.T) {
	o := archivedOrigin(t)
	base := "http://" + o.HTTPAddr()
	for _, tc := range []struct {
		path, ctype, cache string
		code               int
		contains           string
	}{
		{"/live/old/master.m3u8", "application/vnd.apple.mpegurl", cacheEnded, 200, "RESOLUTION=1280x720"},
		{"/live/old/720p/index.m3u8", "application/vnd.apple.mpegurl", cacheEnded, 200, "#EXT-X-ENDLIST"},
		{"/live/old/manifest.mpd", "application/dash+xml", cacheEnded, 200, `type="static"`},
		{"/live/old/720p/init-0.mp4", "video/mp4", cacheImmutable, 200, "init-720p"},
		{"/live/old/144p/2.m4s", "video/iso.segment", cacheImmutable, 200, "144p144p"},
		{"/live/old/144p/records.json?since=1", "application/json", cacheLive, 200, `"sequence":2`},
		{"/api/v1/streams", "application/json", "no-cache", 200, `"ended": true`},
		{"/api/v1/origin", "application/json", "no-cache", 200, proto.EncodePublicKey(o.PublicKey())},
		{"/metrics", "", "", 200, "canopy_http_requests_total"},
		{"/", "text/html; charset=utf-8", "no-cache", 200, "old"},
		{"/live/old/144p/3.m4s", "", "", 404, ""},
		{"/live/old/144p/01.m4s", "", "", 404, ""},
		{"/live/old/1080p/index.m3u8", "", "", 404, ""},
		{"/live/nope/master.m3u8", "", "", 404, ""},
		{"/live/old/144p/..%2f..%2fmeta.json", "", "", 404, ""},
		{"/live/old/144p/records.json?since=-1", "", "", 400, ""},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: status %d, want %d (%s)", tc.path, resp.StatusCode, tc.code, body)
			continue
		}
		if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		}
		if tc.cache != "" && resp.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("%s: Cache-Control %q, want %q", tc.path, resp.Header.Get("Cache-Control"), tc.cache)
		}
		if !strings.Contains(string(body), tc.contains) {
			t.Errorf("%s: body lacks %q:\n%s", tc.path, tc.contains, body)
		}
	}
}

func TestSegmentRecordHeaderVerifies(t *testing.T) {
	o := archivedOrigin(t)
	resp, err := http.Get("http://" + o.HTTPAddr() + "/live/old/720p/1.m4s")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var rec proto.Segment
	if err := json.Unmarshal([]byte(resp.Header.Get("Canopy-Record")), &rec); err != nil {
		t.Fatal(err)
	}
	if err := rec.VerifyData(o.PublicKey(), data); err != nil {
		t.Fatal(err)
	}
	data[0] ^= 1
	if err := rec.VerifyData(o.PublicKey(), data); err == nil {
		t.Fatal("flipped byte verified")
	}
}

func TestCORS(t *testing.T) {
	o := archivedOrigin(t)
	for _, tc := range []struct{ origin, want string }{
		{"https://player.example", "https://player.example"},
		{"https://evil.example", ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+o.HTTPAddr()+"/live/old/master.m3u8", nil)
		req.Header.Set("Origin", tc.origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("Origin %s: ACAO %q, want %q", tc.origin, got, tc.want)
		}
	}
	req, _ := http.NewRequest(http.MethodOptions, "http://"+o.HTTPAddr()+"/live/old/144p/0.m4s", nil)
	req.Header.Set("Origin", "https://player.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestHTTP2Cleartext(t *testing.T) {
	o := archivedOrigin(t)
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &protos}}
	resp, err := client.Get("http://" + o.HTTPAddr() + "/live/old/720p/index.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK {
		t.Fatalf("got %s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
	}
}

// FuzzHTTPRequests sends arbitrary paths and queries to the origin's
// handler: it must never panic or answer 5xx.
func FuzzHTTPRequests(f *testing.F) {
	o := archivedOrigin(f)
	h := o.Handler()
	for _, s := range []string{"/live/old/master.m3u8", "/live/old/144p/2.m4s", "/live/old/144p/records.json?since=1&limit=2",
		"/live/old/720p/init-0.mp4", "/api/v1/streams", "/live/%2e%2e/x", "/live/old/144p/18446744073709551616.m4s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		req, err := http.NewRequest(http.MethodGet, "http://origin"+target, nil)
		if err != nil {
			return
		}
		req.RemoteAddr = "192.0.2.1:1234"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body.String())
		}
	})
}
