// Package commentsync keeps every node's comment store in step over libp2p.
//
// Live delivery: one gossipsub topic per stream ("/canopy/comments/1/<stream>"),
// with the comment's content ID as the gossipsub message ID, so gossipsub's
// seen-cache and the store's idempotent Put both suppress duplicates. The
// topic validator decodes the message, rejects oversize messages, anything
// comments.Validate refuses, a comment of another stream, and a timestamp
// more than the clock's drift ahead (Clock.Update); it ignores tombstoned IDs
// and banned authors. A valid comment is stored (durably) inside the
// validator, so a node forwards only what it has stored and nothing is lost
// to a slow subscription channel. A local Post stores first, then publishes
// to every topic peer (flood publish), so a comment posted before the mesh
// has formed still leaves the node. Messages are not signed per hop
// (StrictNoSign): the content ID, checked by the validator, already
// authenticates the comment, and verifying a signature on every duplicate
// copy was most of the CPU under load.
//
// Catch-up: a request/response protocol "/canopy/comments-sync/1.0.0" (binary
// form in wire.go) serves pages of Store.Range. When a peer that shares a
// stream's topic appears (gossipsub PeerJoin event: on Join, on a new
// connection, after a restart or a healed partition), the node pulls from it
// every comment after (its own newest comment − Window), in pages of
// PageSize, and stores the missing ones. Comments stored this way that are
// younger than Window are republished on the topic, so they spread to
// neighbours that are not directly connected to the other side of a healed
// partition (nodes that already hold them ignore them).
//
// Repair: gossip can still drop under overload (full validation or peer
// queues; see the canopy_commentsync_gossip_dropped_total metric). Every
// RepairInterval (30 s) a node also pulls from one random topic peer, over
// RepairWindow (2 minutes) before its newest comment, so a dropped comment
// arrives at the latest one interval later.
//
// Limit of the scheme: a node that already holds comments only asks for the
// last Window (10 minutes by default) before its newest one. A partition or
// outage during which the other side gained comments older than that (a
// partition longer than Window, or a node whose newest comment is much newer
// than what it missed) is not repaired. An empty store asks for everything.
// Each sync is bounded (MaxPages pages, per-page timeout); IDs make merges
// idempotent.
package commentsync
