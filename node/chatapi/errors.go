package chatapi

import "errors"

// Errors of this package, wrapped with %w.
var (
	// ErrParams: invalid constructor parameters.
	ErrParams = errors.New("chatapi: invalid parameters")
)
