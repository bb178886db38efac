package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/canopylive/canopy/proto"
)

// h3Client returns an HTTP/3 client that trusts only cert.
func h3Client(t *testing.T, cert *x509.Certificate) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}}
	t.Cleanup(func() { _ = tr.Close() })
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func fetch(t *testing.T, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, b
}

// TestHTTP3ServesNode serves a node's handler over HTTP/3 and fetches
// playlists and segments with a client that trusts the node's
// self-signed certificate; each segment verifies against its
// Canopy-Record header.
func TestHTTP3ServesNode(t *testing.T) {
	o := newOrigin(t, 2, 2<<10)
	root := newTestNode(t, o, true)
	o.publishInits(t, root)
	for seq := range uint64(4) {
		o.publishColumn(t, root, seq)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := ServeHTTP3(ctx, HTTP3Params{Addr: "127.0.0.1:0", Handler: AltSvc(root.Handler(), 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if srv.Port() == 0 || !strings.HasPrefix(srv.PinnedPubKey(), "sha256//") {
		t.Fatalf("port %d, pin %q", srv.Port(), srv.PinnedPubKey())
	}
	c := h3Client(t, srv.Certificate())
	base := fmt.Sprintf("https://127.0.0.1:%d", srv.Port())
	cases := []struct {
		path, ctype, contains string
		segment               bool
	}{
		{"/live/demo/master.m3u8", "application/vnd.apple.mpegurl", "r1/index.m3u8", false},
		{"/live/demo/r0/index.m3u8", "application/vnd.apple.mpegurl", "3.m4s", false},
		{"/live/demo/manifest.mpd", "application/dash+xml", `type="dynamic"`, false},
		{"/live/demo/r0/init-0.mp4", "video/mp4", "", true},
		{"/live/demo/r1/3.m4s", "video/iso.segment", "", true},
	}
	for _, tc := range cases {
		resp, body := fetch(t, c, base+tc.path)
		if resp.StatusCode != http.StatusOK || resp.Proto != "HTTP/3.0" {
			t.Errorf("%s: %d over %s, want 200 over HTTP/3.0", tc.path, resp.StatusCode, resp.Proto)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if got := resp.Header.Get("Alt-Svc"); got != "" {
			t.Errorf("%s: HTTP/3 response carries Alt-Svc %q", tc.path, got)
		}
		if !bytes.Contains(body, []byte(tc.contains)) {
			t.Errorf("%s: body lacks %q", tc.path, tc.contains)
		}
		if !tc.segment {
			continue
		}
		var rec proto.Segment
		if err := json.Unmarshal([]byte(resp.Header.Get("Canopy-Record")), &rec); err != nil {
			t.Fatalf("%s: Canopy-Record: %v", tc.path, err)
		}
		if err := rec.VerifyData(o.pub, body); err != nil {
			t.Errorf("%s: segment does not verify: %v", tc.path, err)
		}
	}

	// An untrusting client refuses the self-signed certificate.
	strict := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}
	t.Cleanup(func() { _ = strict.Close() })
	if _, err := (&http.Client{Transport: strict, Timeout: 5 * time.Second}).Get(base + "/live/demo/master.m3u8"); err == nil {
		t.Error("a client without the certificate connected")
	}

	if err := srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	after := h3Client(t, srv.Certificate())
	after.Timeout = time.Second
	if _, err := after.Get(base + "/live/demo/master.m3u8"); err == nil {
		t.Error("served after Close")
	}
}

// TestHTTP3Certificate checks that the certificate is kept in DataDir
// across restarts, replaced when its files are corrupt, and fresh every
// start without DataDir.
func TestHTTP3Certificate(t *testing.T) {
	dir := t.TempDir()
	start := func(dataDir string) []byte {
		t.Helper()
		srv, err := ServeHTTP3(context.Background(), HTTP3Params{Addr: "127.0.0.1:0", Handler: http.NotFoundHandler(), DataDir: dataDir, Hosts: []string{"node.example"}})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := srv.Close(); err != nil {
				t.Error(err)
			}
		}()
		if err := srv.Certificate().VerifyHostname("node.example"); err != nil {
			t.Error(err)
		}
		return srv.Certificate().Raw
	}
	first := start(dir)
	cases := []struct {
		name     string
		dataDir  string
		prepare  func()
		wantSame bool
	}{
		{"restart keeps it", dir, func() {}, true},
		{"no data dir", "", func() {}, false},
		{"corrupt files replaced", dir, func() {
			if err := os.WriteFile(filepath.Join(dir, certFile), []byte("junk"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tc := range cases {
		tc.prepare()
		got := start(tc.dataDir)
		if bytes.Equal(got, first) != tc.wantSame {
			t.Errorf("%s: same certificate %v, want %v", tc.name, !tc.wantSame, tc.wantSame)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, keyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
}

// TestAltSvc checks the header on HTTP/1.1 and h2 responses.
func TestAltSvc(t *testing.T) {
	h := AltSvc(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) }), 8443)
	cases := []struct {
		name string
		h2   bool
	}{{"HTTP/1.1", false}, {"h2", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(h)
			srv.EnableHTTP2 = tc.h2
			srv.StartTLS()
			t.Cleanup(srv.Close)
			c := srv.Client()
			resp, body := fetch(t, c, srv.URL+"/")
			if want := map[bool]int{false: 1, true: 2}[tc.h2]; resp.ProtoMajor != want {
				t.Fatalf("served over %s (%s)", resp.Proto, body)
			}
			if got := resp.Header.Get("Alt-Svc"); got != `h3=":8443"; ma=86400` {
				t.Errorf("Alt-Svc %q", got)
			}
		})
	}
}

// TestHTTP3StopsWithContext checks that cancelling ServeHTTP3's context
// stops the server.
func TestHTTP3StopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := ServeHTTP3(ctx, HTTP3Params{Addr: "127.0.0.1:0", Handler: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cancel()
	select {
	case <-srv.done:
	case <-time.After(5 * time.Second):
		t.Fatal("server still running after its context was cancelled")
	}
	if err := srv.Close(); err != nil {
		t.Errorf("close after cancel: %v", err)
	}
}
