package main

import (
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/origin"
	"github.com/canopylive/canopy/transcode"
)

func publicKey(priv ed25519.PrivateKey) ed25519.PublicKey {
	return priv.Public().(ed25519.PublicKey)
}

// loadConfig parses the layered configuration for a subcommand.
func loadConfig(name string, args []string, stderr io.Writer, getenv func(string) string, cfg *config.Config, extra func(*flag.FlagSet, *config.Config)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return config.Parse(fs, args, getenv, cfg, func(fs *flag.FlagSet, c *config.Config) {
		config.BindCommon(fs, c)
		config.BindOrigin(fs, c)
		if extra != nil {
			extra(fs, c)
		}
	})
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// loadOriginKey loads (or on first start creates) the signing key.
func loadOriginKey(cfg config.Config) (ed25519.PrivateKey, error) {
	keyFile := cfg.Origin.KeyFile
	if keyFile == "" {
		keyFile = filepath.Join(cfg.DataDir, "origin.key")
	}
	return origin.LoadOrGenerateKey(keyFile)
}

// newOrigin builds an origin from the configuration; feed and rootPeer may
// be nil (no relay tree).
func newOrigin(cfg config.Config, key ed25519.PrivateKey, log *slog.Logger, reg *prometheus.Registry,
	feed origin.Feed, rootPeer func() (string, []string), routes func(*http.ServeMux), router origin.WHEPRouter) (*origin.Origin, error) {
	store, err := origin.NewFileStore(filepath.Join(cfg.DataDir, "archive"))
	if err != nil {
		return nil, err
	}
	var keys []origin.StreamKey
	for _, s := range cfg.Origin.Streams {
		keys = append(keys, origin.StreamKey{ID: s.ID, Key: s.Key})
	}
	var ladder []transcode.Rung
	for _, r := range cfg.Origin.Transcode.Ladder {
		ladder = append(ladder, transcode.Rung{Name: r.Name, Height: r.Height, VideoBitrate: r.Bitrate})
	}
	o := cfg.Origin
	return origin.New(origin.Params{
		HTTPAddr: o.HTTP, RTMPAddr: o.RTMP, TLSCert: o.TLSCert, TLSKey: o.TLSKey,
		Streams: keys, Key: key, Store: store,
		Transcode: origin.TranscodeParams{
			FFmpeg: o.Transcode.FFmpeg, Preset: o.Transcode.Preset, Threads: o.Transcode.Threads,
			Passthrough: o.Transcode.Passthrough, SegmentDuration: o.Transcode.SegmentDuration, Ladder: ladder,
		},
		MaxConnections: o.MaxConnections, IdleTimeout: o.IdleTimeout, ReconnectGrace: graceParam(o),
		DVRWindow: o.DVRWindow, CORSOrigins: o.CORSOrigins,
		LogDir: filepath.Join(cfg.DataDir, "logs"), Logger: log, Registry: reg,
		Feed: feed, RootPeer: rootPeer, Routes: routes,
		LowLatency: origin.LowLatencyParams{Enabled: o.LowLatency.Enabled, Rung: o.LowLatency.Rung, Router: router},
	})
}

// graceParam maps the config's "0 means none" to the origin's "negative
// means none".
func graceParam(o config.Origin) time.Duration {
	if o.ReconnectGrace == 0 {
		return -1
	}
	return o.ReconnectGrace
}

// localURL turns a listen address into a URL a person on this machine can
// open.
func localURL(scheme, addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, port))
}

func baseURL(cfg config.Config, o *origin.Origin) string {
	if cfg.Origin.PublicURL != "" {
		return strings.TrimRight(cfg.Origin.PublicURL, "/")
	}
	scheme := "http"
	if cfg.Origin.TLSCert != "" {
		scheme = "https"
	}
	return localURL(scheme, o.HTTPAddr())
}
