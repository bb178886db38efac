package origin

import "errors"

// Reasons a publisher or request is refused. Each is logged with the
// connection's remote address and never with the stream key.
var (
	ErrUnknownKey       = errors.New("unknown stream key")
	ErrBadApp           = errors.New("RTMP application must be \"live\"")
	ErrAlreadyLive      = errors.New("stream already has a live publisher")
	ErrUnsupportedVideo = errors.New("video codec is not H.264")
	ErrUnsupportedAudio = errors.New("audio codec is not AAC")
	ErrBadCodecConfig   = errors.New("malformed codec configuration")
	ErrNoVideo          = errors.New("no video from the publisher")
	ErrIdle             = errors.New("publisher sent nothing")
	ErrTooManyConns     = errors.New("RTMP connection limit reached")
	ErrUnknownStream    = errors.New("unknown stream")
	ErrNotFound         = errors.New("not found")
	ErrClosed           = errors.New("origin closed")
)
