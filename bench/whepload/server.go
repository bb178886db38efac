package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/sfu"
	"github.com/canopylive/canopy/sfu/whep"
)

const streamName = "bench"

var (
	h264Codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	opusCodec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
)

// node is the measured side: the two tracks, their paced feeder, and WHEP
// over net/http on loopback.
type node struct {
	video, audio *sfu.Track
	whep         *whep.Server
	hs           *http.Server
	url          string // the WHEP endpoint

	stop    chan struct{}
	pause   chan chan struct{} // see atKeyframe
	fed     chan struct{}      // closed when the feeder has returned
	feedErr error              // the feeder's error, set before fed closes
}

// startNode starts the tracks, the feeder and the HTTP server.
func startNode(cfg config, log *slog.Logger) (*node, error) {
	n := &node{stop: make(chan struct{}), pause: make(chan chan struct{}), fed: make(chan struct{})}
	var err error
	if n.video, err = sfu.NewTrack(sfu.TrackParams{ID: "video", StreamID: streamName, Codec: h264Codec, Logger: log}); err != nil {
		return nil, err
	}
	if n.audio, err = sfu.NewTrack(sfu.TrackParams{ID: "audio", StreamID: streamName, Codec: opusCodec, Logger: log}); err != nil {
		return nil, errors.Join(err, n.video.Close())
	}
	var se webrtc.SettingEngine
	superpeer.LoopbackSettings(&se)
	api, err := sfu.NewAPIWithParams(sfu.APIParams{SettingEngine: se, NoBandwidthEstimation: !cfg.bwe})
	if err == nil {
		n.whep, err = whep.New(whep.Params{Source: n, API: api, MaxSessions: cfg.viewers + 16, Logger: log})
	}
	var ln net.Listener
	if err == nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, errors.Join(err, n.video.Close(), n.audio.Close())
	}
	mux := http.NewServeMux()
	n.whep.Register(mux)
	n.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	n.url = "http://" + ln.Addr().String() + "/live/" + streamName + "/whep"
	go func() { _ = n.hs.Serve(ln) }()

	s := newSynth(cfg.bitrate)
	go func() {
		defer close(n.fed)
		n.feedErr = feed(n.stop, n.pause, s, n.video, n.audio)
	}()
	return n, nil
}

// Tracks implements whep.Source.
func (n *node) Tracks(stream string) []*sfu.Track {
	if stream != streamName {
		return nil
	}
	return []*sfu.Track{n.video, n.audio}
}

// close stops everything; the error is the feeder's, if it failed.
func (n *node) close() error {
	close(n.stop)
	<-n.fed
	errs := []error{n.hs.Close(), n.whep.Close(), n.video.Close(), n.audio.Close()}
	if n.feedErr != nil {
		errs = append(errs, fmt.Errorf("feeding the tracks: %w", n.feedErr))
	}
	return errors.Join(errs...)
}

// feeding reports whether the feeder still runs.
func (n *node) feeding() bool {
	select {
	case <-n.fed:
		return false
	default:
		return true
	}
}

var errFeederStopped = errors.New("the feeder stopped")

// atKeyframe runs f while the feeder is paused just before it writes a
// keyframe: a frame interval after the last packet of a P-frame, the
// quietest moment of the stream and the same point of every GOP, so that
// samples taken there bracket whole GOPs with the same packets in flight.
func (n *node) atKeyframe(ctx context.Context, f func()) error {
	resume := make(chan struct{})
	select {
	case n.pause <- resume:
	case <-n.fed:
		return errFeederStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	defer close(resume)
	f()
	return nil
}

// feed writes s's packets into video and audio at their pace (a frame every
// 1/fps s, an Opus packet every 20 ms) until stop closes or a write fails.
// Before a keyframe it serves one pending pause request (atKeyframe).
func feed(stop <-chan struct{}, pause <-chan chan struct{}, s *synth, video, audio *sfu.Track) error {
	vt := time.NewTicker(time.Second / fps)
	defer vt.Stop()
	at := time.NewTicker(opusInterval)
	defer at.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-vt.C:
			if s.keyframeNext() {
				select {
				case resume := <-pause:
					select {
					case <-resume:
					case <-stop:
						return nil
					}
				default:
				}
			}
			for _, p := range s.nextFrame() {
				if err := video.WriteRTP(p); err != nil {
					return err
				}
			}
		case <-at.C:
			if err := audio.WriteRTP(s.nextAudio()); err != nil {
				return err
			}
		}
	}
}
