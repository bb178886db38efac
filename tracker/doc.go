// Package tracker keeps the relay tree of every stream in shape: it accepts
// relay nodes over the libp2p tracker protocol (proto.TrackerProtocol),
// tracks their liveness through heartbeats, and assigns each node a parent,
// a backup parent and RTT candidates per stream.
//
// The assignment engine (Tree) is pure and deterministic: joins take the
// shallowest free slot, closest (lowest reported RTT) first; links are
// never moved without reason; orphans go to their backup when it can take
// them, else to the best slot; reported nodes stay leaves; Rebalance moves
// the deepest leaves up when a slot two levels shallower is free, which
// keeps depth within ⌈log_f N⌉+1 for fan-out f.
//
// The Tracker owns the I/O: one session per node (reader in the stream
// handler, writer draining a bounded queue), one mutex over all trees and
// sessions. Protocol: the node sends Hello, then a Heartbeat every second;
// the tracker answers with an Assignment per stream whenever the node's
// parent, backup or depth changes. State is soft: during RecoveryWindow
// after Start, a joining node waits for its first Heartbeat and for the
// parent it reports, so a restarted tracker rebuilds the tree as it was.
package tracker
