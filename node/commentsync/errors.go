package commentsync

import "errors"

// Errors returned by this package, wrapped with %w.
var (
	// ErrParams: invalid constructor parameters.
	ErrParams = errors.New("commentsync: invalid parameters")
	// ErrNotStarted: Join or Post before Start, or after Close.
	ErrNotStarted = errors.New("commentsync: not started")
	// ErrNotJoined: Post on a stream that was not joined.
	ErrNotJoined = errors.New("commentsync: stream not joined")
	// ErrWire: a malformed catch-up request or response.
	ErrWire = errors.New("commentsync: malformed sync message")
	// ErrTooLarge: a message over the size limit.
	ErrTooLarge = errors.New("commentsync: message too large")
)
