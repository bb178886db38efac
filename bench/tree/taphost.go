package main

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/canopylive/canopy/proto"
)

// frameFunc is told about every frame a node reads from its parent: who
// sent it, its head, and when the node's reader got its last byte.
type frameFunc func(parent peer.ID, head []byte, at time.Time)

// tapHost is a libp2p host as a node sees it, with its tree streams
// instrumented: streams the node opens to a parent are read through a
// frame scanner, and every byte the node writes to its children is counted.
// Everything else passes through untouched.
type tapHost struct {
	host.Host
	onFrame frameFunc     // nil: no tap
	egress  *atomic.Int64 // bytes written to children
	onErr   func(error)   // a frame the scanner could not follow
}

// NewStream opens a stream; a tree stream comes back tapped.
func (h *tapHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	st, err := h.Host.NewStream(ctx, p, pids...)
	if err != nil || h.onFrame == nil || !slices.Contains(pids, proto.TreeProtocol) {
		return st, err
	}
	return &tapStream{Stream: st, parent: p, sc: newFrameScanner(), onFrame: h.onFrame, onErr: h.onErr}, nil
}

// SetStreamHandler registers a handler; the tree handler gets counting streams.
func (h *tapHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	if pid != proto.TreeProtocol {
		h.Host.SetStreamHandler(pid, handler)
		return
	}
	h.Host.SetStreamHandler(pid, func(st network.Stream) {
		handler(&countStream{Stream: st, n: h.egress})
	})
}

// tapStream reports the frames read from a parent. Only the node's ingest
// goroutine reads it, so the scanner needs no lock.
type tapStream struct {
	network.Stream
	parent  peer.ID
	sc      *frameScanner
	onFrame frameFunc
	onErr   func(error)
	failed  bool
}

func (s *tapStream) Read(p []byte) (int, error) {
	n, err := s.Stream.Read(p)
	if n > 0 && !s.failed {
		at := time.Now()
		heads, ferr := s.sc.feed(p[:n])
		for _, h := range heads {
			s.onFrame(s.parent, h, at)
		}
		if ferr != nil {
			s.failed = true
			s.onErr(ferr)
		}
	}
	return n, err
}

// countStream counts the bytes written to a child.
type countStream struct {
	network.Stream
	n *atomic.Int64
}

func (s *countStream) Write(p []byte) (int, error) {
	n, err := s.Stream.Write(p)
	s.n.Add(int64(n))
	return n, err
}
