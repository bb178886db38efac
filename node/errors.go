package node

import "errors"

// Errors returned by this package; the reason is wrapped with %w.
var (
	// ErrNoHost means Params.Host is nil.
	ErrNoHost = errors.New("node: no libp2p host")
	// ErrBadKey means Params.OriginKey is not an Ed25519 public key.
	ErrBadKey = errors.New("node: bad origin public key")
	// ErrNotRoot means Publish was called on a node that is not the root.
	ErrNotRoot = errors.New("node: only the root node publishes")
	// ErrBadSegment means a segment failed validation or verification.
	ErrBadSegment = errors.New("node: bad segment")
	// ErrBadInfo means a StreamInfo is malformed.
	ErrBadInfo = errors.New("node: bad stream info")
	// ErrBadSubscribe means a child's Subscribe is malformed.
	ErrBadSubscribe = errors.New("node: bad subscribe")
	// ErrUnknownStream means the node does not carry the stream.
	ErrUnknownStream = errors.New("node: unknown stream")
	// ErrProtocol means a peer sent a message out of place.
	ErrProtocol = errors.New("node: protocol violation")
	// ErrStalled means a parent sent no segment for too long.
	ErrStalled = errors.New("node: parent stalled")
	// ErrClosed means the node is closed.
	ErrClosed = errors.New("node: closed")
	// ErrBadPeer means a tracker message names a malformed peer.
	ErrBadPeer = errors.New("node: bad peer")
	// ErrStore means the node's database in Params.DataDir failed.
	ErrStore = errors.New("node: database")
	// ErrCert means the HTTP/3 certificate could not be made or saved.
	ErrCert = errors.New("node: HTTP/3 certificate")
	// ErrHTTP3 means the HTTP/3 server could not start or stop cleanly.
	ErrHTTP3 = errors.New("node: HTTP/3")
	// ErrStarted means Start was called twice.
	ErrStarted = errors.New("node: already started")
)
