// Package manifest renders HLS playlists (multivariant and media) and DASH
// MPDs from signed segment records (proto.Segment). Its functions are pure:
// no I/O, no clock, no state; the caller passes everything, including "now".
//
// Both formats use the same files, relative to a rendition's folder:
// "init-<discontinuity>.mp4" and "<sequence>.m4s" (proto.Segment.FileName).
package manifest
