package sfu

import "errors"

// Errors of this package, wrapped with %w. Bind also returns
// webrtc.ErrUnsupportedCodec (wrapped) when the viewer accepts no codec that
// can carry the Track's media.
var (
	// ErrParams: invalid constructor parameters or arguments.
	ErrParams = errors.New("sfu: invalid parameters")
	// ErrClosed: the Track or DownTrack is closed.
	ErrClosed = errors.New("sfu: closed")
	// ErrAlreadyBound: Bind on a DownTrack that is bound to another sender.
	ErrAlreadyBound = errors.New("sfu: downtrack already bound")
	// ErrNotBound: Unbind with a context the DownTrack is not bound to.
	ErrNotBound = errors.New("sfu: downtrack not bound to this context")
)
