package tracker

import "errors"

// Errors returned by the engine and the tracker.
var (
	ErrNodeExists    = errors.New("tracker: node already in tree")
	ErrUnknownNode   = errors.New("tracker: unknown node")
	ErrRootExists    = errors.New("tracker: tree already has a root")
	ErrNoHost        = errors.New("tracker: no libp2p host")
	ErrBadHello      = errors.New("tracker: bad hello")
	ErrBadMessage    = errors.New("tracker: unexpected message")
	ErrSlowReader    = errors.New("tracker: session write queue full")
	ErrReplaced      = errors.New("tracker: replaced by a newer session")
	ErrHeartbeatLate = errors.New("tracker: heartbeat timeout")
	ErrClosed        = errors.New("tracker: closed")
)
