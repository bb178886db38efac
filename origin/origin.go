package origin

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/sfu"
	"github.com/canopylive/canopy/sfu/whep"
	"github.com/canopylive/canopy/transcode"
)

// TranscodeParams configures every stream's transcoder.
type TranscodeParams struct {
	FFmpeg          string
	Preset          string
	Threads         int
	Passthrough     bool
	SegmentDuration time.Duration
	Ladder          []transcode.Rung
}

// Params configures an Origin.
type Params struct {
	HTTPAddr, RTMPAddr string
	TLSCert, TLSKey    string
	Streams            []StreamKey
	Key                ed25519.PrivateKey
	Store              SegmentStore
	Transcode          TranscodeParams
	MaxConnections     int
	IdleTimeout        time.Duration                      // RTMP silence before a publisher is dropped; default 10s
	ReconnectGrace     time.Duration                      // default 30s; negative means none
	DVRWindow          time.Duration                      // default 10m
	CORSOrigins        []string                           // default "*"
	LogDir             string                             // ffmpeg logs
	Feed               Feed                               // optional: receives every sealed segment (the relay tree's root)
	RootPeer           func() (id string, addrs []string) // optional: the root node's libp2p identity, for /api/v1/origin
	// Routes, when set, registers more routes on the origin's HTTP mux
	// (the web app, the browser tracker). It then also owns "GET /{$}":
	// the origin's built-in stream index is left out.
	Routes func(mux *http.ServeMux)
	// LowLatency, when Enabled, also sends each stream as WebRTC media
	// (H.264 without B-frames and Opus) and serves it over WHEP at
	// POST /live/{stream}/whep.
	LowLatency LowLatencyParams
	Logger     *slog.Logger
	Registry   *prometheus.Registry
	Now        func() time.Time
}

// Origin ingests, transcodes, seals and serves.
type Origin struct {
	p        Params
	log      *slog.Logger // component=origin
	root     *slog.Logger // for other components' loggers
	key      ed25519.PrivateKey
	keys     *keyTable
	store    SegmentStore
	hub      *hub
	metrics  *metrics
	tmetrics *transcode.Metrics
	viewers  *viewerCounter
	now      func() time.Time
	ll       *lowLatency  // nil unless LowLatency.Enabled
	whep     *whep.Server // nil unless LowLatency.Enabled

	ctx    context.Context
	cancel context.CancelFunc
	rtmp   *rtmpServer
	http   *http.Server
	httpLn net.Listener
	wg     sync.WaitGroup
}

// ErrNoFFmpeg is returned by New when the ffmpeg binary cannot be found.
var ErrNoFFmpeg = errors.New("ffmpeg not found: install it (Debian: apt-get install ffmpeg) or set origin.transcode.ffmpeg")

// New checks the parameters and ffmpeg; nothing listens until Start.
func New(p Params) (*Origin, error) {
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Registry == nil {
		p.Registry = prometheus.NewRegistry()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.MaxConnections <= 0 {
		p.MaxConnections = 64
	}
	if p.IdleTimeout <= 0 {
		p.IdleTimeout = 10 * time.Second
	}
	if p.ReconnectGrace < 0 {
		p.ReconnectGrace = 0
	} else if p.ReconnectGrace == 0 {
		p.ReconnectGrace = 30 * time.Second
	}
	if p.DVRWindow <= 0 {
		p.DVRWindow = 10 * time.Minute
	}
	if len(p.CORSOrigins) == 0 {
		p.CORSOrigins = []string{"*"}
	}
	if p.Transcode.SegmentDuration <= 0 {
		p.Transcode.SegmentDuration = 2 * time.Second
	}
	if len(p.Transcode.Ladder) == 0 {
		p.Transcode.Ladder = transcode.DefaultLadder()
	}
	if p.Transcode.FFmpeg == "" {
		p.Transcode.FFmpeg = "ffmpeg"
	}
	path, err := exec.LookPath(p.Transcode.FFmpeg)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNoFFmpeg, err)
	}
	p.Transcode.FFmpeg = path
	if len(p.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("origin: Params.Key must be an Ed25519 private key")
	}
	if p.Store == nil {
		return nil, errors.New("origin: Params.Store is required")
	}
	if p.LogDir == "" {
		p.LogDir = os.TempDir()
	}
	if err := os.MkdirAll(p.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("log dir: %w", err)
	}
	m, err := newMetrics(p.Registry)
	if err != nil {
		return nil, fmt.Errorf("origin metrics: %w", err)
	}
	tm, err := transcode.NewMetrics(p.Registry)
	if err != nil {
		return nil, fmt.Errorf("transcode metrics: %w", err)
	}
	o := &Origin{
		p: p, log: p.Logger.With("component", "origin"), root: p.Logger, key: p.Key, keys: newKeyTable(p.Streams),
		store: p.Store, metrics: m, tmetrics: tm, now: p.Now, viewers: newViewerCounter(p.Now),
	}
	o.hub = newHub(o)
	if p.LowLatency.Enabled {
		o.ll = newLowLatency(o.log.With("part", "lowlatency"), m)
		api, err := sfu.NewAPI(p.LowLatency.SettingEngine)
		if err != nil {
			return nil, fmt.Errorf("low latency: %w", err)
		}
		o.whep, err = whep.New(whep.Params{Source: o.ll, API: api, ICEServers: p.LowLatency.ICEServers,
			CORSOrigins: p.CORSOrigins, Logger: p.Logger, Registerer: p.Registry})
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Start loads the archive, then listens for RTMP and HTTP.
func (o *Origin) Start(ctx context.Context) error {
	o.ctx, o.cancel = context.WithCancel(context.WithoutCancel(ctx))
	archived, err := o.store.Latest()
	if err != nil {
		return fmt.Errorf("load archive: %w", err)
	}
	var bs []*broadcast
	for _, a := range archived {
		b := loadArchived(a, o.p.DVRWindow)
		if !a.Meta.Ended {
			if err := o.store.PutMeta(b.meta()); err != nil {
				o.log.Warn("mark interrupted broadcast ended", "stream", b.stream, "err", err)
			}
		}
		bs = append(bs, b)
		o.log.Info("restored broadcast from archive as VOD", "stream", b.stream, "broadcast", b.id, "segments", len(a.Records))
	}
	o.hub.restore(bs)

	rln, err := net.Listen("tcp", o.p.RTMPAddr)
	if err != nil {
		return fmt.Errorf("rtmp listen: %w", err)
	}
	hln, err := net.Listen("tcp", o.p.HTTPAddr)
	if err != nil {
		rln.Close()
		return fmt.Errorf("http listen: %w", err)
	}
	o.rtmp = newRTMPServer(o, rln)
	o.httpLn = hln
	o.http = newHTTPServer(o.Handler(), o.p.Logger)
	o.wg.Add(2)
	go func() {
		defer o.wg.Done()
		if err := o.rtmp.serve(); err != nil {
			o.log.Error("rtmp server stopped", "err", err)
		}
	}()
	go func() {
		defer o.wg.Done()
		var err error
		if o.p.TLSCert != "" {
			err = o.http.ServeTLS(hln, o.p.TLSCert, o.p.TLSKey)
		} else {
			err = o.http.Serve(hln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.log.Error("http server stopped", "err", err)
		}
	}()
	o.log.Info("origin listening", "http", hln.Addr().String(), "rtmp", rln.Addr().String())
	return nil
}

// HTTPAddr is the address HTTP listens on (after Start).
func (o *Origin) HTTPAddr() string { return o.httpLn.Addr().String() }

// RTMPAddr is the address RTMP listens on (after Start).
func (o *Origin) RTMPAddr() string { return o.rtmp.ln.Addr().String() }

// PublicKey is the key every segment record is signed with.
func (o *Origin) PublicKey() ed25519.PublicKey { return o.key.Public().(ed25519.PublicKey) }

// Close disconnects publishers (their transcoders flush), ends broadcasts
// and stops HTTP.
func (o *Origin) Close() error {
	if o.cancel == nil {
		return nil
	}
	o.hub.close()
	o.rtmp.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := o.http.Shutdown(ctx)
	if o.whep != nil {
		_ = o.whep.Close()
		o.ll.close()
	}
	o.cancel()
	o.wg.Wait()
	return err
}
