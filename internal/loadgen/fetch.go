package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/canopylive/canopy/internal/playrules"
	"github.com/canopylive/canopy/node/superpeer"
	"github.com/canopylive/canopy/proto"
)

// get fetches u; it returns the body and the response headers.
func (v *Viewer) get(ctx context.Context, u string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	res, err := v.sh.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrHTTP, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, proto.MaxSegmentLength))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrHTTP, u, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%w: %s: %s", ErrHTTP, u, res.Status)
	}
	return body, res.Header, nil
}

// streamJSON is the part of GET /api/v1/streams the player reads.
type streamJSON struct {
	ID        string `json:"id"`
	Broadcast string `json:"broadcast"`
	HLS       string `json:"hls"`
}

// setup does what the page does before playing: find the stream and its
// broadcast, the origin's key and the trackers, pick the rendition from the
// master playlist and derive its swarm. It retries until the stream plays
// or ctx ends.
func (v *Viewer) setup(ctx context.Context) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = v.trySetup(ctx); err == nil {
			return nil
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("setup: %w (last: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (v *Viewer) trySetup(ctx context.Context) error {
	body, _, err := v.get(ctx, v.base+"/api/v1/streams")
	if err != nil {
		return err
	}
	var list []streamJSON
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("%w: streams: %w", ErrHTTP, err)
	}
	var info *streamJSON
	for i := range list {
		if list[i].ID == v.p.Stream && list[i].Broadcast != "" && list[i].HLS != "" {
			info = &list[i]
		}
	}
	if info == nil {
		return fmt.Errorf("%w: %q", ErrNoStream, v.p.Stream)
	}
	body, _, err = v.get(ctx, v.base+"/api/v1/player")
	if err != nil {
		return err
	}
	var player struct {
		PublicKey string   `json:"public_key"`
		Trackers  []string `json:"trackers"`
	}
	if err := json.Unmarshal(body, &player); err != nil {
		return fmt.Errorf("%w: player: %w", ErrHTTP, err)
	}
	pub, err := proto.DecodePublicKey(player.PublicKey)
	if err != nil {
		return err
	}
	master, err := url.Parse(v.base + "/live/" + url.PathEscape(v.p.Stream) + "/master.m3u8")
	if err != nil {
		return err
	}
	body, _, err = v.get(ctx, master.String())
	if err != nil {
		return err
	}
	variants, err := parseMaster(body)
	if err != nil {
		return err
	}
	pick := variants[0]
	for _, vr := range variants {
		if v.p.Rendition == "" && vr.Bandwidth < pick.Bandwidth || vr.Name == v.p.Rendition {
			pick = vr
		}
	}
	if v.p.Rendition != "" && pick.Name != v.p.Rendition {
		return fmt.Errorf("%w: no rendition %q", ErrNoStream, v.p.Rendition)
	}
	media, err := master.Parse(pick.URI)
	if err != nil {
		return err
	}
	v.mediaURL = media.String()
	v.infoHash = superpeer.InfoHash(superpeer.VariantSwarmID(superpeer.SwarmID(v.p.Stream, info.Broadcast), pick.Attrs))
	v.trackers = player.Trackers
	if len(v.trackers) == 0 {
		v.trackers = []string{"ws" + strings.TrimPrefix(v.base, "http") + "/tracker"}
	}
	recordsURL, _ := media.Parse("records.json")
	rendition := pick.Name
	v.mu.Lock()
	v.book = newRecordBook(v.p.Stream, info.Broadcast, rendition, pub, func(ctx context.Context, since uint64) ([]byte, error) {
		q := *recordsURL
		q.RawQuery = "since=" + strconv.FormatUint(since, 10) + "&limit=" + strconv.Itoa(recordFetchLimit)
		b, _, err := v.get(ctx, q.String())
		return b, err
	})
	v.mu.Unlock()
	return v.loadInit(ctx)
}

// loadInit fetches and checks the init segment of the first playlist, as
// hls.js does over HTTP before the first media segment.
func (v *Viewer) loadInit(ctx context.Context) error {
	pl, err := v.fetchPlaylist(ctx)
	if err != nil {
		return err
	}
	if len(pl.Segments) == 0 || pl.Segments[0].Map == "" {
		return fmt.Errorf("%w: no segments yet", ErrNoStream)
	}
	mu, _ := url.Parse(v.mediaURL)
	iu, err := mu.Parse(pl.Segments[len(pl.Segments)-1].Map)
	if err != nil {
		return err
	}
	kind, disc, err := proto.ParseFileName(pathBase(iu.Path))
	if err != nil || kind != proto.KindInit {
		return fmt.Errorf("%w: init %q", ErrPlaylist, iu.Path)
	}
	body, hdr, err := v.get(ctx, iu.String())
	if err != nil {
		return err
	}
	v.countHTTP(iu.String(), len(body))
	if rec := hdr.Get("Canopy-Record"); rec != "" {
		v.book.addJSON([]byte(rec))
	}
	if err := v.book.verify(ctx, proto.KindInit, disc, body); err != nil {
		v.mu.Lock()
		v.stats.VerifyFailed++
		v.mu.Unlock()
		return err
	}
	v.merge(pl)
	return nil
}

func pathBase(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func (v *Viewer) fetchPlaylist(ctx context.Context) (mediaPlaylist, error) {
	body, _, err := v.get(ctx, v.mediaURL)
	if err != nil {
		return mediaPlaylist{}, err
	}
	return parseMedia(body)
}

// playlistLoop reloads the media playlist like hls.js: after one target
// duration, or half of it when the last reload brought nothing new.
func (v *Viewer) playlistLoop(ctx context.Context) {
	wait := time.Duration(0)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pl, err := v.fetchPlaylist(ctx)
		if err != nil {
			wait = time.Second
			continue
		}
		grew := v.merge(pl)
		wait = pl.Target
		if !grew {
			wait /= 2
		}
		if n := len(pl.Segments); n > 0 {
			go v.book.prefetch(ctx, pl.Segments[n-1].Seq)
		}
	}
}

// merge adds newly listed segments; it reports whether the list grew.
func (v *Viewer) merge(pl mediaPlaylist) bool {
	now := time.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	grew := false
	for _, m := range pl.Segments {
		if _, ok := v.segs[m.Seq]; ok || (v.listed && m.Seq <= v.lastSeq) {
			continue
		}
		s := &seg{seq: m.Seq, dur: m.Duration, pdt: m.PDT, uri: m.URI, rnd: rand.Float64(), listedAt: now}
		if head, ok := v.playheadPDT(); ok {
			s.lead = m.PDT.Sub(head)
		}
		v.segs[m.Seq] = s
		if !v.listed || m.Seq > v.lastSeq {
			v.lastSeq, v.listed, grew = m.Seq, true, true
		}
	}
	if pl.Target > 0 {
		v.segDur = pl.Target
	}
	// Playback starts once the playlist is long enough for the target
	// latency (initialLiveManifestSize = sync segments + 1).
	minLen := int(playrules.TargetLatency(v.p.Mode, v.segDur)/v.segDur) + 1
	if !v.haveStart && len(pl.Segments) >= minLen {
		if seq, off, ok := v.livePosition(); ok {
			v.startSeq, v.startOff, v.haveStart = seq, off, true
		}
	}
	v.evict()
	if grew {
		v.kick()
	}
	return grew
}

// countHTTP adds HTTP bytes, origin or relay by the URL's host.
func (v *Viewer) countHTTP(u string, n int) {
	src := FromRelayHTTP
	if v.sh.isOrigin(u) {
		src = FromOrigin
	}
	v.mu.Lock()
	v.stats.addBytes(src, int64(n))
	v.mu.Unlock()
}

// fetchSegment downloads a media segment over HTTP and checks it.
func (v *Viewer) fetchSegment(ctx context.Context, s *seg) {
	mu, _ := url.Parse(v.mediaURL)
	u, err := mu.Parse(s.uri)
	var body []byte
	var hdr http.Header
	if err == nil {
		body, hdr, err = v.get(ctx, u.String())
	}
	if err == nil {
		v.countHTTP(u.String(), len(body))
		if rec := hdr.Get("Canopy-Record"); rec != "" {
			if _, ok := v.book.peek(proto.KindMedia, s.seq); !ok {
				v.book.addJSON([]byte(rec))
			}
		}
		err = v.book.verify(ctx, proto.KindMedia, s.seq, body)
	}
	src := FromRelayHTTP
	if u != nil && v.sh.isOrigin(u.String()) {
		src = FromOrigin
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.httpBusy--
	s.inflight = playrules.Wait
	v.annDirty = true
	if err != nil {
		if ctx.Err() == nil && body != nil {
			v.stats.VerifyFailed++
		}
		v.kick()
		return
	}
	v.loaded(s, body, src, time.Now())
}
