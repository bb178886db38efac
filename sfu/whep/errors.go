package whep

import "errors"

// Errors of this package, wrapped with %w.
var (
	// ErrParams: invalid constructor parameters.
	ErrParams = errors.New("whep: invalid parameters")
	// ErrClosed: the server is closed.
	ErrClosed = errors.New("whep: closed")
)
