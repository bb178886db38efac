// Package transcode runs ffmpeg as a supervised child process that turns the
// FLV a broadcaster publishes into an adaptive bitrate ladder of fragmented MP4
// (CMAF-style: an init segment, then one moof+mdat fragment per GOP), one
// output pipe per rendition, and hands each finished init segment and media
// fragment to a callback. Optionally the same ffmpeg also sends one rung's
// picture and the audio as low-latency RTP (H.264 constrained baseline and
// Opus) to receivers on loopback, for the WebRTC path.
//
// The pieces, one file each:
//   - ladder.go: the rungs, the default ladder and Plan (never upscale, optional passthrough);
//   - args.go: BuildArgs, the pure ladder → ffmpeg argv function;
//   - webrtc.go: the optional WebRTC (RTP) outputs: rung choice, validation, encoder and muxer options;
//   - classify.go: stderr line classification (ignore / explain / error);
//   - progress.go, speed.go: the -progress key=value parser and the slow-encoder watch;
//   - boxes.go, fmp4info.go: the fMP4 splitter and its moov/moof decoding (via mp4ff);
//   - flvfeed.go: the FLV written to ffmpeg's stdin, with sequence-header replay on restart;
//   - transcoder.go: the public lifecycle (New/Start/WriteTag/Close);
//   - run.go: one ffmpeg process (an epoch) and the goroutines reading its pipes;
//   - supervise.go: restarts with exponential backoff, callbacks;
//   - metrics.go: Prometheus metrics.
//
// Each ffmpeg run is an epoch. A run that dies while the transcoder is not
// closing is logged with its exit status and last error line, and after a
// backoff a new epoch starts: FLV header, then (at the next video keyframe)
// the remembered metadata and sequence headers, then the stream. Outputs of a
// new epoch start with a fresh init segment and timestamps near zero, so
// consumers treat an epoch change as a discontinuity.
//
// ffmpeg's stderr goes, whole, to <LogDir>/<stream>.ffmpeg.log; lines that
// Classify marks Explain or Error are also logged (Warn / Error, at most once
// per 10 s per explanation).
package transcode
