package origin

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"

	flvtag "github.com/yutopp/go-flv/tag"

	"github.com/canopylive/canopy/transcode"
)

// session is one publisher connection feeding one broadcast. The RTMP
// connection goroutine calls onVideo/onAudio/onMetadata in order; the
// transcoder calls onOutput from its own goroutines.
type session struct {
	o      *Origin
	log    *slog.Logger
	stream string
	b      *broadcast

	// Owned by the RTMP connection goroutine.
	avcHeader, aacHeader, metadata *flvtag.FlvTag
	video                          videoInfo
	audio                          *audioInfo
	metaFPS                        float64
	tr                             *transcode.Transcoder
	llGen                          int           // the low-latency receivers' generation (lowLatency.open)
	gotVideo                       chan struct{} // closed at the first keyframe
	audioDropped                   bool
	hasAudio                       bool // the transcoder was started with audio

	sealer *sealer
}

func newSession(o *Origin, stream string, b *broadcast, log *slog.Logger) *session {
	return &session{o: o, stream: stream, b: b, log: log, gotVideo: make(chan struct{})}
}

// readPayload copies an RTMP message payload; go-rtmp reuses its buffers.
func readPayload(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, maxTagSize+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxTagSize {
		return nil, fmt.Errorf("%w: media message larger than %d bytes", ErrBadCodecConfig, maxTagSize)
	}
	return buf.Bytes(), nil
}

// maxTagSize bounds one FLV tag; a 4K keyframe at a high bitrate stays far
// below it.
const maxTagSize = 16 << 20

func (s *session) onVideo(ts uint32, payload io.Reader) error {
	var v flvtag.VideoData
	if err := flvtag.DecodeVideoData(payload, &v); err != nil {
		return fmt.Errorf("%w: video tag: %w", ErrBadCodecConfig, err)
	}
	if v.CodecID != flvtag.CodecIDAVC {
		return fmt.Errorf("%w (FLV codec id %d)", ErrUnsupportedVideo, v.CodecID)
	}
	body, err := readPayload(v.Data)
	if err != nil {
		return err
	}
	s.o.metrics.ingestBytes.WithLabelValues(s.stream).Add(float64(len(body)))
	tag := videoTag(ts, v, body)
	if v.AVCPacketType == flvtag.AVCPacketTypeSequenceHeader {
		vi, err := parseAVCConfig(body)
		if err != nil {
			return err
		}
		if s.tr != nil && (vi.Width != s.video.Width || vi.Height != s.video.Height) {
			return fmt.Errorf("%w: picture size changed from %dx%d to %dx%d mid-stream; reconnect to change it",
				ErrBadCodecConfig, s.video.Width, s.video.Height, vi.Width, vi.Height)
		}
		s.video, s.avcHeader = vi, tag
		if s.tr != nil {
			return s.tr.WriteTag(tag)
		}
		return nil
	}
	if s.tr == nil {
		if s.avcHeader == nil || v.AVCPacketType != flvtag.AVCPacketTypeNALU || v.FrameType != flvtag.FrameTypeKeyFrame {
			return nil // wait for the configuration and a keyframe
		}
		if err := s.startTranscoder(); err != nil {
			return err
		}
		close(s.gotVideo)
	}
	return s.tr.WriteTag(tag)
}

func (s *session) onAudio(ts uint32, payload io.Reader) error {
	var a flvtag.AudioData
	if err := flvtag.DecodeAudioData(payload, &a); err != nil {
		return fmt.Errorf("%w: audio tag: %w", ErrBadCodecConfig, err)
	}
	if a.SoundFormat != flvtag.SoundFormatAAC {
		return fmt.Errorf("%w (FLV sound format %d)", ErrUnsupportedAudio, a.SoundFormat)
	}
	body, err := readPayload(a.Data)
	if err != nil {
		return err
	}
	s.o.metrics.ingestBytes.WithLabelValues(s.stream).Add(float64(len(body)))
	tag := audioTag(ts, a, body)
	if a.AACPacketType == flvtag.AACPacketTypeSequenceHeader {
		ai, err := parseAACConfig(body)
		if err != nil {
			return err
		}
		s.audio, s.aacHeader = &ai, tag
	}
	if s.tr == nil {
		return nil // sequence headers are replayed at start; raw frames before the first keyframe are useless
	}
	if !s.hasAudio {
		if !s.audioDropped {
			s.audioDropped = true
			s.log.Warn("audio started after video; this session stays video-only")
		}
		return nil
	}
	return s.tr.WriteTag(tag)
}

func (s *session) onMetadata(ts uint32, payload []byte) {
	var sd flvtag.ScriptData
	if err := flvtag.DecodeScriptData(bytes.NewReader(payload), &sd); err != nil {
		s.log.Debug("ignoring undecodable metadata", "err", err)
		return
	}
	if fps, ok := metadataFPS(sd); ok {
		s.metaFPS = fps
	}
	s.metadata = &flvtag.FlvTag{TagType: flvtag.TagTypeScriptData, Timestamp: ts, Data: &sd}
}

// metadataFPS reads the frame rate an encoder announced in onMetaData.
func metadataFPS(sd flvtag.ScriptData) (float64, bool) {
	for _, obj := range sd.Objects {
		for _, k := range []string{"framerate", "videoframerate"} {
			if f, ok := obj[k].(float64); ok && f >= 1 && f <= 240 {
				return f, true
			}
		}
	}
	return 0, false
}

func videoTag(ts uint32, v flvtag.VideoData, body []byte) *flvtag.FlvTag {
	v.Data = bytes.NewReader(body)
	return &flvtag.FlvTag{TagType: flvtag.TagTypeVideo, Timestamp: ts, Data: &v}
}

func audioTag(ts uint32, a flvtag.AudioData, body []byte) *flvtag.FlvTag {
	a.Data = bytes.NewReader(body)
	return &flvtag.FlvTag{TagType: flvtag.TagTypeAudio, Timestamp: ts, Data: &a}
}

// startTranscoder plans the ladder for what the publisher sends and starts
// ffmpeg, replaying the configuration it has seen so far.
func (s *session) startTranscoder() error {
	fps := s.video.FPS
	if fps == 0 {
		fps = s.metaFPS
	}
	if fps == 0 {
		fps = 30
		s.log.Warn("source frame rate unknown (no SPS timing, no onMetaData); assuming 30 fps")
	}
	src := transcode.Source{Width: s.video.Width, Height: s.video.Height, FPS: fps, HasAudio: s.aacHeader != nil}
	cfg := s.o.p.Transcode
	rungs, err := transcode.Plan(cfg.Ladder, src, cfg.Passthrough)
	if err != nil {
		return fmt.Errorf("plan ladder for %dx%d: %w", src.Width, src.Height, err)
	}
	infos := make([]RenditionInfo, len(rungs))
	for i, r := range rungs {
		infos[i] = RenditionInfo{Name: r.Name, Width: r.Width, Height: r.Height, Bitrate: r.VideoBitrate, FrameRate: fps}
		if r.Passthrough {
			infos[i].Bitrate = 0
		}
	}
	if err := s.o.hub.fixRenditions(s.stream, s, infos); err != nil {
		return err
	}
	s.sealer = newSealer(s.o, s.b, s.log, names(rungs))
	var rtc *transcode.WebRTCOutput
	if s.o.ll != nil {
		bitrate, low := webrtcVideo(rungs, cfg.Ladder, s.o.p.LowLatency.Rung)
		if rtc, s.llGen, err = s.o.ll.open(s.stream, src.HasAudio, low, s.o.p.LowLatency.Rung, bitrate); err != nil {
			return err
		}
	}
	tr, err := transcode.New(transcode.Params{
		FFmpegPath:      cfg.FFmpeg,
		Stream:          s.stream,
		Rungs:           rungs,
		Source:          src,
		SegmentDuration: cfg.SegmentDuration,
		Preset:          cfg.Preset,
		Threads:         cfg.Threads,
		LogDir:          s.o.p.LogDir,
		Logger:          s.o.root.With("stream", s.stream, "broadcast", s.b.id),
		Metrics:         s.o.tmetrics,
		OnOutput:        s.sealer.onOutput,
		OnEpochEnd:      s.sealer.onEpochEnd,
		WebRTC:          rtc,
	})
	if err != nil {
		return err
	}
	if err := tr.Start(s.o.ctx); err != nil {
		return err
	}
	s.tr, s.hasAudio = tr, src.HasAudio
	s.log.Info("transcoding", "source", fmt.Sprintf("%dx%d@%.3g", src.Width, src.Height, fps), "audio", src.HasAudio, "renditions", names(rungs))
	for _, t := range []*flvtag.FlvTag{s.metadata, s.avcHeader, s.aacHeader} {
		if t == nil {
			continue
		}
		if err := tr.WriteTag(rewind(t)); err != nil {
			return err
		}
	}
	return nil
}

// rewind returns a copy of a remembered tag whose payload reader starts at
// the beginning again.
func rewind(t *flvtag.FlvTag) *flvtag.FlvTag {
	c := *t
	switch d := t.Data.(type) {
	case *flvtag.VideoData:
		v := *d
		if br, ok := d.Data.(*bytes.Reader); ok {
			_, _ = br.Seek(0, io.SeekStart)
			v.Data = br
		}
		c.Data = &v
	case *flvtag.AudioData:
		a := *d
		if br, ok := d.Data.(*bytes.Reader); ok {
			_, _ = br.Seek(0, io.SeekStart)
			a.Data = br
		}
		c.Data = &a
	}
	return &c
}

func names(rungs []transcode.Rung) []string {
	out := make([]string, len(rungs))
	for i, r := range rungs {
		out[i] = r.Name
	}
	return out
}

// close stops the transcoder after it has flushed the last fragments.
func (s *session) close() {
	if s.tr == nil {
		return
	}
	if err := s.tr.Close(); err != nil {
		s.log.Warn("transcoder close", "err", err)
	}
	if s.o.ll != nil {
		s.o.ll.stop(s.stream, s.llGen)
	}
}
