package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/testsrc"
)

// devStream is the demo stream's ID.
const devStream = "demo"

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg := config.Default()
	cfg.DataDir = "canopy-dev-data"
	// The demo source's keyframes are 2 s apart, so passing the 1080p
	// source through as the top rung is safe and halves the CPU needed.
	cfg.Origin.Transcode.Passthrough = true
	// The demo source is encoded in the same process tree; ultrafast leaves
	// CPU for it on a 2-core machine. --preset changes it.
	cfg.Origin.Transcode.Preset = "ultrafast"
	demo := true
	demoSize := "1920x1080"
	browserRelays := true
	// Every libp2p host of the dev deployment lives on loopback.
	cfg.Origin.P2P = config.P2P{Listen: loopbackP2P()}
	if err := loadConfig("dev", args, stderr, getenv, &cfg, func(fs *flag.FlagSet, _ *config.Config) {
		fs.BoolVar(&demo, "demo", demo, "publish a test pattern with a tone as stream \"demo\"")
		fs.StringVar(&demoSize, "demo-size", demoSize, "the demo source's frame size, WIDTHxHEIGHT")
		fs.BoolVar(&browserRelays, "browser-relays", browserRelays, "relay nodes join the browser swarms as WebRTC super-peers")
	}); err != nil {
		return err
	}
	demoW, demoH, err := parseFrameSize(demoSize)
	if err != nil {
		return fmt.Errorf("dev: --demo-size: %w", err)
	}
	key := ""
	for _, s := range cfg.Origin.Streams {
		if s.ID == devStream {
			key = s.Key
		}
	}
	if key == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		key = hex.EncodeToString(b[:])
		cfg.Origin.Streams = append(cfg.Origin.Streams, config.Stream{ID: devStream, Key: key})
	}
	log := newLogger(cfg.Log, stderr)
	tr, err := startDevTracker(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer tr.Close()
	st, err := startOriginStack(ctx, cfg, tr.peers(), tr.wt, trackerWHEPRouter{tr.t}, log, newRegistry())
	if err != nil {
		return err
	}
	defer st.Close()
	o := st.o
	nodes, err := startDevNodes(ctx, cfg, tr, browserRelays, o.PublicKey(), devNodes, log)
	if err != nil {
		return err
	}
	defer nodes.Close()
	base := baseURL(cfg, o)
	rtmpURL := localURL("rtmp", o.RTMPAddr()) + "/live/" + key
	fmt.Fprintf(stdout, "\nCanopy dev is running.\n"+
		"  Player:       %s/watch/%s\n"+
		"  Streams:      %s/\n"+
		"  HLS:          %s/live/%s/master.m3u8\n"+
		"  DASH:         %s/live/%s/manifest.mpd\n"+
		"  Publish (OBS/ffmpeg): %s\n"+
		"  Metrics:      %s/metrics\n"+
		"  Tracker:      %s/tracker/stats\n", base, devStream, base, base, devStream, base, devStream, rtmpURL, base, tr.url)
	for i, u := range nodes.urls {
		fmt.Fprintf(stdout, "  Relay node %d: %s/live/%s/master.m3u8\n", i+1, u, devStream)
	}
	fmt.Fprintln(stdout)
	if demo {
		logf, err := os.OpenFile(filepath.Join(cfg.DataDir, "logs", "demo-source.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("demo source log: %w", err)
		}
		defer logf.Close()
		go runDemo(ctx, testsrc.Params{FFmpeg: cfg.Origin.Transcode.FFmpeg, URL: rtmpURL,
			Width: demoW, Height: demoH, Audio: true, Realtime: true, Stderr: logf}, log)
	}
	<-ctx.Done()
	return nil
}

// runDemo keeps the demo broadcaster publishing, restarting it if it stops.
func runDemo(ctx context.Context, p testsrc.Params, log interface{ Warn(string, ...any) }) {
	for {
		pub, err := testsrc.Start(ctx, p)
		if err != nil {
			log.Warn("demo source did not start", "err", err)
			return
		}
		select {
		case <-ctx.Done():
			_ = pub.Close()
			return
		case <-pub.Done():
			log.Warn("demo source stopped; restarting in 2s", "err", pub.Err())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// errFrameSize is returned for a frame size that is not WIDTHxHEIGHT with
// even sides from 16 to 4096.
var errFrameSize = errors.New("want WIDTHxHEIGHT, even numbers from 16 to 4096")

func parseFrameSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(s, "x")
	if !ok {
		return 0, 0, fmt.Errorf("%q: %w", s, errFrameSize)
	}
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if err1 != nil || err2 != nil || w < 16 || h < 16 || w > 4096 || h > 4096 || w%2 != 0 || h%2 != 0 {
		return 0, 0, fmt.Errorf("%q: %w", s, errFrameSize)
	}
	return w, h, nil
}
