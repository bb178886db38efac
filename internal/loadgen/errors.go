package loadgen

import "errors"

// Errors returned by this package; details are wrapped with %w.
var (
	ErrInvalidParams = errors.New("loadgen: invalid parameters")
	ErrNoStream      = errors.New("loadgen: stream not available")
	ErrPlaylist      = errors.New("loadgen: malformed playlist")
	ErrVerify        = errors.New("loadgen: segment failed verification")
	ErrHTTP          = errors.New("loadgen: HTTP request failed")
)
