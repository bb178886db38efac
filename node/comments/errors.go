package comments

import "errors"

// Errors returned by this package, always wrapped with %w and a message
// that says what was wrong. The validation errors (ErrInvalid and the
// errors wrapping it) are meant to become HTTP 4xx bodies as they are.
var (
	// ErrInvalid is wrapped by every validation error below.
	ErrInvalid = errors.New("invalid comment")
	// ErrEmpty: a text or author name with no visible character.
	ErrEmpty = errors.New("empty")
	// ErrTooLong: a text or author name over its limit in characters.
	ErrTooLong = errors.New("too long")
	// ErrBadUTF8: bytes that are not valid UTF-8.
	ErrBadUTF8 = errors.New("not valid UTF-8")
	// ErrControlChar: a control or bidirectional-override character.
	ErrControlChar = errors.New("control character not allowed")
	// ErrBadStream: not a valid stream name.
	ErrBadStream = errors.New("invalid stream name")
	// ErrBadID: an ID that does not match the comment's content.
	ErrBadID = errors.New("ID does not match content")
	// ErrBadTimestamp: a missing or negative timestamp.
	ErrBadTimestamp = errors.New("invalid timestamp")
	// ErrDecode: bytes that are not an encoded comment.
	ErrDecode = errors.New("cannot decode comment")

	// ErrRateLimited: the author or address posts too fast.
	ErrRateLimited = errors.New("too many comments, slow down")
	// ErrClockDrift: a remote timestamp too far ahead of the local clock.
	ErrClockDrift = errors.New("timestamp too far in the future")

	// ErrParams: invalid constructor parameters.
	ErrParams = errors.New("comments: invalid parameters")
	// ErrStore: Badger failed.
	ErrStore = errors.New("comments: store")
	// ErrClosed: the store is closed (or its writer stopped).
	ErrClosed = errors.New("comments: store closed")
	// ErrWrongStream: a deletion names a comment of another stream.
	ErrWrongStream = errors.New("comment belongs to another stream")
)
