// Package chatapi is the HTTP face of a stream's live conversation, served
// by the origin and by every relay node: posting and paging comments,
// reactions, a Server-Sent Events feed (comments, deletions, bans,
// reaction counts, announcements, viewer count) and the broadcaster's
// moderation.
//
// It owns no state of its own beyond its live subscribers: comments,
// tombstones, bans and announcements are in the node's comments.Store, and
// replication is commentsync's. The Hub turns what commentsync stores or
// learns (a comment, a moderation action, new totals) into events for the
// node's own subscribers, each behind a bounded queue: a subscriber that
// falls behind is disconnected and counted, and its EventSource reconnects
// with Last-Event-ID and is replayed what it missed from the store. The
// number of a node's subscribers is its viewer count in the tallies.
//
// Moderation is signed with the broadcaster's Ed25519 key. A server that
// holds the key (the origin) signs a delete, ban or announcement for a
// caller that presents the stream's broadcaster credential; any server
// accepts an action already signed (POST …/moderation), so moderation can
// be sent to whichever node is at hand.
package chatapi
