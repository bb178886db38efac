package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/sfu/whep"
)

// The load client runs in a child process (this program with -load-client)
// so that the viewers' CPU, heap and garbage collection are never charged
// to the node measured in the parent. It speaks JSON lines on stdout: one
// readyMsg once every viewer receives video (or receiveWait passes), then
// one snapshot for each "mark" line read on stdin. It closes its viewers
// and exits when stdin closes.

// Bounds of the load client's waits.
const (
	dialTimeout = 30 * time.Second // one WHEP POST, ICE gathering included
	receiveWait = 30 * time.Second // after the last dial, for first video
	maxErrors   = 5                // dial errors reported by text
)

// readyMsg is the load client's first line.
type readyMsg struct {
	Dialled   int      `json:"dialled"`   // sessions created (201 Created)
	Failed    int      `json:"failed"`    // dials that failed
	Connected int      `json:"connected"` // PeerConnections connected now
	Receiving int      `json:"receiving"` // viewers that got video
	Errors    []string `json:"errors,omitempty"`
	ConnectMS int64    `json:"connect_ms"` // first dial to the last viewer receiving (or giving up)
}

// snapshot is the load client's counters per viewer, in dial order; a
// viewer whose dial failed counts zero.
type snapshot struct {
	Video []uint64 `json:"video"` // RTP packets read
	Audio []uint64 `json:"audio"`
	Bytes []uint64 `json:"bytes"` // RTP bytes read (header and payload, decrypted)
	// Expected counts the sequence numbers each viewer's tracks have
	// advanced by: the sfu keeps a viewer's sequence continuous across its
	// own drops, so Expected minus packets read is the loss on the way.
	Expected []uint64 `json:"expected"`
}

// viewer is one WHEP session and its counters.
type viewer struct {
	c                             *whep.Client
	video, audio, bytes, expected atomic.Uint64
	receiving                     chan struct{} // closed at the first video packet
	once                          sync.Once
}

// onTrack counts every packet of t until the connection closes.
func (v *viewer) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	video := t.Kind() == webrtc.RTPCodecTypeVideo
	buf := make([]byte, 1500)
	var last uint16
	started := false
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if n >= 12 {
			seq := binary.BigEndian.Uint16(buf[2:4])
			switch d := int16(seq - last); {
			case !started:
				started, last = true, seq
				v.expected.Add(1)
			case d > 0: // later packets lost on the way show as a jump
				last = seq
				v.expected.Add(uint64(d))
			}
		}
		if video {
			v.video.Add(1)
			v.once.Do(func() { close(v.receiving) })
		} else {
			v.audio.Add(1)
		}
		v.bytes.Add(uint64(n))
	}
}

// viewerAPI is the viewers' pion API. With bwe they send transport-wide
// congestion control feedback, as browsers do, which the sfu's per-viewer
// estimator consumes.
func viewerAPI(se webrtc.SettingEngine, bwe bool) (*webrtc.API, error) {
	if !bwe {
		return webrtc.NewAPI(webrtc.WithSettingEngine(se)), nil
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureTWCCSender(me, ir); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir)), nil
}

// runLoadClient is the child's main.
func runLoadClient(ctx context.Context, cfg config, in io.Reader, out io.Writer) error {
	if err := raiseFDLimit(4*cfg.viewers + 256); err != nil {
		return err
	}
	var se webrtc.SettingEngine
	superpeer.LoopbackSettings(&se)
	api, err := viewerAPI(se, cfg.bwe)
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.dialBatch}}

	start := time.Now()
	viewers, msg := dialAll(ctx, api, hc, cfg)
	msg.Receiving = waitReceiving(ctx, viewers, receiveWait)
	msg.ConnectMS = time.Since(start).Milliseconds()
	for _, v := range viewers {
		if v.c != nil && v.c.PC.ConnectionState() == webrtc.PeerConnectionStateConnected {
			msg.Connected++
		}
	}
	defer closeAll(viewers, cfg.dialBatch)

	enc := json.NewEncoder(out)
	if err := enc.Encode(msg); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() != "mark" {
			return fmt.Errorf("load client: unknown command %q", sc.Text())
		}
		if err := enc.Encode(snap(viewers)); err != nil {
			return err
		}
	}
	return sc.Err()
}

// dialAll opens cfg.viewers sessions, cfg.dialBatch at a time.
func dialAll(ctx context.Context, api *webrtc.API, hc *http.Client, cfg config) ([]*viewer, readyMsg) {
	viewers := make([]*viewer, cfg.viewers)
	var (
		mu  sync.Mutex
		msg readyMsg
		wg  sync.WaitGroup
	)
	sem := make(chan struct{}, cfg.dialBatch)
	for i := range viewers {
		v := &viewer{receiving: make(chan struct{})}
		viewers[i] = v
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			msg.Failed += len(viewers) - i
			msg.Errors = append(msg.Errors, ctx.Err().Error())
			return viewers, msg
		}
		wg.Go(func() {
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, dialTimeout)
			defer cancel()
			c, err := whep.Dial(dctx, whep.ClientParams{Endpoint: cfg.loadClient, API: api, HTTP: hc, OnTrack: v.onTrack})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				msg.Failed++
				if len(msg.Errors) < maxErrors {
					msg.Errors = append(msg.Errors, err.Error())
				}
				return
			}
			v.c = c
			msg.Dialled++
		})
	}
	wg.Wait()
	return viewers, msg
}

// waitReceiving waits up to wait (or ctx) for every dialled viewer's first
// video packet and returns how many got one.
func waitReceiving(ctx context.Context, viewers []*viewer, wait time.Duration) int {
	t := time.NewTimer(wait)
	defer t.Stop()
	for _, v := range viewers {
		if v.c == nil {
			continue
		}
		select {
		case <-v.receiving:
		case <-t.C:
			return countReceiving(viewers)
		case <-ctx.Done():
			return countReceiving(viewers)
		}
	}
	return countReceiving(viewers)
}

func countReceiving(viewers []*viewer) int {
	n := 0
	for _, v := range viewers {
		select {
		case <-v.receiving:
			n++
		default:
		}
	}
	return n
}

func snap(viewers []*viewer) snapshot {
	n := len(viewers)
	s := snapshot{Video: make([]uint64, n), Audio: make([]uint64, n), Bytes: make([]uint64, n), Expected: make([]uint64, n)}
	for i, v := range viewers {
		s.Video[i], s.Audio[i], s.Bytes[i], s.Expected[i] = v.video.Load(), v.audio.Load(), v.bytes.Load(), v.expected.Load()
	}
	return s
}

// closeAll closes the viewers' PeerConnections, batch at a time.
func closeAll(viewers []*viewer, batch int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, batch)
	for _, v := range viewers {
		if v.c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_ = v.c.PC.Close()
		})
	}
	wg.Wait()
}
