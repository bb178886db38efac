package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/host"

	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/node"
	"github.com/canopylive/canopy/proto"
)

const (
	benchStream = "bench"
	segDuration = 2 * time.Second
)

var errMismatch = errors.New("node and nginx serve different bytes")

// benchCase is one URL path served by both servers.
type benchCase struct {
	Name string
	Path string // below the server's root, e.g. /live/bench/r0/19.m4s
	Body []byte // what both must return
}

// nodeServer is a root node with the benchmark's segments, served over HTTP.
type nodeServer struct {
	host host.Host
	node *node.Node
	srv  *http.Server
	addr string
	done chan error
}

// startNode publishes count media segments of size bytes in rendition r0
// and one small one in rendition "small", and serves the node's Handler.
func startNode(ctx context.Context, count, size, small int) (*nodeServer, error) {
	seed := [ed25519.SeedSize]byte{'n', 'o', 'd', 'e', 'h', 't', 't', 'p'}
	priv := ed25519.NewKeyFromSeed(seed[:])
	h, err := p2p.NewHost(p2p.HostParams{Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		return nil, err
	}
	s := &nodeServer{host: h, done: make(chan error, 1)}
	s.node, err = node.New(node.Params{
		Host: h, OriginKey: priv.Public().(ed25519.PublicKey), Streams: []string{benchStream}, Root: true,
		Window: time.Duration(count+1) * segDuration * 2,
	})
	if err != nil {
		_ = h.Close()
		return nil, err
	}
	if err := s.node.Start(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	info := node.StreamInfo{Stream: benchStream, Broadcast: "b1", SegmentDuration: segDuration, Renditions: []node.Rendition{
		{Name: "r0", Width: 1280, Height: 720, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30, Bandwidth: 4_000_000},
		{Name: "small", Width: 320, Height: 180, Codecs: "avc1.64000d", FrameRate: 30, Bandwidth: 100_000},
	}}
	rng := rand.NewChaCha8([32]byte{9})
	base := time.Now().UTC().Truncate(time.Second)
	pub := func(rend string, seq uint64, n int) error {
		data := make([]byte, n)
		_, _ = rng.Read(data)
		rec := proto.Seal(proto.Segment{
			Stream: benchStream, Broadcast: info.Broadcast, Rendition: rend, Kind: proto.KindMedia,
			Sequence: seq, Start: time.Duration(seq) * segDuration, Duration: segDuration,
			ProgramDateTime: base.Add(time.Duration(seq) * segDuration),
		}, data, priv)
		return s.node.Publish(info, rec, data)
	}
	for seq := range uint64(count) {
		if err := pub("r0", seq, size); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("publish: %w", err)
		}
	}
	if err := pub("small", 0, small); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("publish: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.addr = l.Addr().String()
	s.srv = &http.Server{Handler: s.node.Handler(), ReadHeaderTimeout: 10 * time.Second}
	l = node.TuneServer(s.srv, l)
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// cases fetches each benchmark URL once from the node.
func (s *nodeServer) cases(ctx context.Context, count int) ([]benchCase, error) {
	out := []benchCase{
		{Name: "segment", Path: fmt.Sprintf("/live/%s/r0/%d.m4s", benchStream, count-1)},
		{Name: "small", Path: fmt.Sprintf("/live/%s/small/0.m4s", benchStream)},
		{Name: "playlist", Path: fmt.Sprintf("/live/%s/r0/index.m3u8", benchStream)},
	}
	for i := range out {
		b, err := fetch(ctx, "http://"+s.addr+out[i].Path)
		if err != nil {
			return nil, err
		}
		out[i].Body = b
	}
	return out, nil
}

// Close stops the HTTP server, the node and its host.
func (s *nodeServer) Close() error {
	var errs []error
	if s.srv != nil {
		errs = append(errs, s.srv.Close())
		if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if s.node != nil {
		errs = append(errs, s.node.Close())
	}
	errs = append(errs, s.host.Close())
	return errors.Join(errs...)
}

// writeDocroot writes every case's body at its path under root, readable
// by nginx's workers (which run as nobody when nginx starts as root).
func writeDocroot(root string, cases []benchCase) error {
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	for _, c := range cases {
		p := filepath.Join(root, filepath.FromSlash(c.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, c.Body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// checkSame verifies both servers return the case's bytes.
func checkSame(ctx context.Context, c benchCase, urls ...string) error {
	for _, u := range urls {
		b, err := fetch(ctx, u)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, c.Body) {
			return fmt.Errorf("%w: %s: %d bytes, want %d", errMismatch, u, len(b), len(c.Body))
		}
	}
	return nil
}

func fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Close = true // no idle connections left behind
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, err
}
