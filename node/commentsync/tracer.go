package commentsync

import (
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// tracer counts what gossipsub drops: RPCs to a peer whose queue is full,
// messages rejected (by reason, including a full validation queue) and
// messages that no subscriber took.
type tracer struct{ m *metrics }

var _ pubsub.RawTracer = tracer{}

func (t tracer) DropRPC(*pubsub.RPC, peer.ID) { t.m.dropped.WithLabelValues("peer_queue_full").Inc() }
func (t tracer) RejectMessage(_ *pubsub.Message, reason string) {
	t.m.dropped.WithLabelValues(reason).Inc()
}
func (t tracer) UndeliverableMessage(*pubsub.Message) {
	t.m.dropped.WithLabelValues("undeliverable").Inc()
}

func (tracer) AddPeer(peer.ID, protocol.ID)                         {}
func (tracer) RemovePeer(peer.ID)                                   {}
func (tracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (tracer) OnClosedOutboundStream(peer.ID)                       {}
func (tracer) Join(string)                                          {}
func (tracer) Leave(string)                                         {}
func (tracer) Graft(peer.ID, string)                                {}
func (tracer) Prune(peer.ID, string)                                {}
func (tracer) ValidateMessage(*pubsub.Message)                      {}
func (tracer) DeliverMessage(*pubsub.Message)                       {}
func (tracer) DuplicateMessage(*pubsub.Message)                     {}
func (tracer) ThrottlePeer(peer.ID)                                 {}
func (tracer) RecvRPC(*pubsub.RPC)                                  {}
func (tracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (tracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
