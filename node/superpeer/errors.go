package superpeer

import "errors"

// Errors returned by this package; details are wrapped with %w.
var (
	ErrInvalidParams  = errors.New("superpeer: invalid parameters")
	ErrMalformed      = errors.New("superpeer: malformed command")
	ErrClosed         = errors.New("superpeer: closed")
	ErrAlreadyStarted = errors.New("superpeer: already started")
	ErrStalled        = errors.New("superpeer: peer stopped draining")
)
