package transcode

import "errors"

// Errors returned by this package. They are wrapped with %w and context.
var (
	// ErrFFmpegNotFound means the ffmpeg binary could not be found or is not executable.
	ErrFFmpegNotFound = errors.New("transcode: ffmpeg executable not found (install ffmpeg or set the ffmpeg path)")
	// ErrBadSource means the source description (size, frame rate) is unusable.
	ErrBadSource = errors.New("transcode: bad source")
	// ErrBadLadder means the ladder is invalid or nothing is left of it after planning.
	ErrBadLadder = errors.New("transcode: bad ladder")
	// ErrBadParams means New or BuildArgs got an invalid parameter.
	ErrBadParams = errors.New("transcode: bad parameters")
	// ErrClosed is returned by WriteTag and Start after Close.
	ErrClosed = errors.New("transcode: transcoder closed")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("transcode: already started")
	// ErrNotStarted is returned by WriteTag before Start.
	ErrNotStarted = errors.New("transcode: not started")
	// ErrBoxSize means an ISO-BMFF box header has an impossible or too large size.
	ErrBoxSize = errors.New("transcode: bad box size")
	// ErrBoxOrder means the fMP4 boxes did not come in init / fragment order.
	ErrBoxOrder = errors.New("transcode: unexpected box order")
	// ErrMP4 means an init segment or fragment could not be decoded.
	ErrMP4 = errors.New("transcode: undecodable fMP4")
	// ErrProgress means a -progress line was not key=value.
	ErrProgress = errors.New("transcode: bad progress line")
	// ErrFFmpegExit means ffmpeg exited (or was killed) while it was expected to run.
	ErrFFmpegExit = errors.New("transcode: ffmpeg exited")
)
