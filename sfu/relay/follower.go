package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/sfu"
)

// Retry pacing of a follower.
const (
	minRetry = 200 * time.Millisecond
	maxRetry = 2 * time.Second
)

// FollowerParams configures a Follower.
type FollowerParams struct {
	Host   host.Host
	Stream string
	// Parent returns the node's current parent for the stream ("" when it
	// has none) and a channel closed when that changes.
	Parent func() (peer.ID, <-chan struct{})
	Logger *slog.Logger
}

// Follower pulls a stream's video and audio from the node's current
// parent into the node's own sfu tracks, following the relay tree: when the
// parent changes (the tree's backup taking over, the tracker moving the
// node) it pulls from the new one, and the tracks carry on.
type Follower struct {
	p   FollowerParams
	log *slog.Logger

	mu     sync.Mutex
	tracks map[string]*sfu.Track // by wire track name, made at the first codec
	up     map[string]*upstream
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// NewFollower returns a Follower; Start starts it.
func NewFollower(p FollowerParams) (*Follower, error) {
	if p.Host == nil || p.Parent == nil || p.Stream == "" {
		return nil, fmt.Errorf("relay: Host, Stream and Parent are required")
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	return &Follower{p: p, log: p.Logger.With("component", "rtp-follower", "stream", p.Stream),
		tracks: map[string]*sfu.Track{}, up: map[string]*upstream{}}, nil
}

// Start pulls until ctx ends or Close.
func (f *Follower) Start(ctx context.Context) {
	ctx, f.cancel = context.WithCancel(ctx)
	for _, name := range trackNames {
		f.wg.Go(func() { f.follow(ctx, name) })
	}
}

// Close stops pulling and closes the tracks.
func (f *Follower) Close() error {
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tracks {
		_ = t.Close()
	}
	return nil
}

// Tracks returns the tracks received so far: video layers best first,
// then audio. The low video layer is listed while it is being pulled (a
// parent whose stream has none answers that it has no such track).
func (f *Follower) Tracks() []*sfu.Track {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*sfu.Track
	for _, name := range trackNames {
		t := f.tracks[name]
		if t == nil || name == TrackVideoLow && f.up[name] == nil {
			continue
		}
		out = append(out, t)
	}
	return out
}

func (f *Follower) follow(ctx context.Context, name string) {
	retry := minRetry
	for ctx.Err() == nil {
		parent, changed := f.p.Parent()
		if parent == "" {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				continue
			}
		}
		pctx, cancel := context.WithCancel(ctx)
		go func() { // a new parent ends the pull from the old one
			select {
			case <-changed:
				cancel()
			case <-pctx.Done():
			}
		}()
		got, err := f.pull(pctx, parent, name)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if got {
			retry = minRetry
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			f.log.Debug("pull", "track", name, "parent", parent, "err", err)
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
			t.Stop()
		case <-t.C:
			retry = min(2*retry, maxRetry)
		}
	}
}

// pull reads one parent's track until the stream or ctx ends; got reports
// whether any packet arrived.
func (f *Follower) pull(ctx context.Context, parent peer.ID, name string) (got bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, requestTimeout)
	st, err := f.p.Host.NewStream(network.WithAllowLimitedConn(dctx, "rtp relay"), parent, ProtocolID)
	cancel()
	if err != nil {
		return false, fmt.Errorf("open: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	defer st.Reset()
	_ = st.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := st.Write(request{Stream: f.p.Stream, Track: name}.encode()); err != nil {
		return false, err
	}
	codec, err := readCodec(st)
	if err != nil {
		return false, err
	}
	_ = st.SetDeadline(time.Time{})
	t, err := f.track(name, codec)
	if err != nil {
		return false, err
	}
	u := &upstream{st: st}
	f.mu.Lock()
	f.up[name] = u
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		if f.up[name] == u {
			delete(f.up, name)
		}
		f.mu.Unlock()
	}()
	buf := make([]byte, maxFrame)
	for {
		// A parent that sends nothing for a while is gone; the tree's own
		// link notices too and moves the node, which ends this pull.
		_ = st.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := readFrame(st, buf)
		if err != nil {
			return got, err
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil {
			return got, fmt.Errorf("%w: %w", ErrWire, err)
		}
		p.Payload = append([]byte(nil), p.Payload...)
		if err := t.WriteRTP(&p); err != nil {
			return got, err
		}
		got = true
	}
}

// track returns the local track of name, making it at the first codec.
func (f *Follower) track(name string, codec webrtc.RTPCodecCapability) (*sfu.Track, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.tracks[name]; t != nil {
		return t, nil
	}
	t, err := sfu.NewTrack(sfu.TrackParams{ID: name, StreamID: f.p.Stream, Codec: codec,
		RequestKeyframe: func() { f.requestKeyframe(name) },
		Logger:          f.log.With("track", name)})
	if err != nil {
		return nil, err
	}
	f.tracks[name] = t
	return t, nil
}

// requestKeyframe passes the node's viewers' (coalesced) request up to the
// parent as a PLI.
func (f *Follower) requestKeyframe(name string) {
	f.mu.Lock()
	u := f.up[name]
	f.mu.Unlock()
	if u == nil {
		return
	}
	b, err := (&rtcp.PictureLossIndication{}).Marshal()
	if err != nil {
		return
	}
	go u.write(b) // must not block the Track
}

// upstream is the stream a track is pulled on; RTCP goes back on it.
type upstream struct {
	mu sync.Mutex
	st network.Stream
}

func (u *upstream) write(b []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	_ = u.st.SetWriteDeadline(time.Now().Add(writeTimeout))
	_ = writeFrame(u.st, b)
}
