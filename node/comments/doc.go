// Package comments is the storage and model layer of a stream's live
// conversation: it defines a comment (content-derived ID, stream, author,
// text, hybrid logical clock timestamp), validates comments and rate-limits
// their authors, and stores comments, deletions (tombstones) and bans in
// Badger with group-committed durable writes.
//
// It is the groundwork that replication and the HTTP API are built on:
//
//   - The accepting node (HTTP POST) calls RateLimiter.Allow, then NewComment
//     with a timestamp from its Clock and a fresh nonce (NewNonce), then
//     Store.Put. Put returns only once the comment is durable (fsync), so a
//     201 sent after it never loses the comment on a crash.
//   - The gossipsub topic validator calls Decode, Validate (which also
//     recomputes the ID) and Clock.Update (which rejects timestamps too far
//     ahead), then Store.Put. Put is idempotent by ID, so redelivery, catch-up
//     range requests and healed partitions never store a comment twice.
//   - Catch-up and GET ?since= page with Store.Range over the total order
//     (HLC wall ms, HLC logical, ID) using a Cursor; the chat panel's history
//     is Store.Latest.
//   - Moderation records (Store.Delete, Store.Ban) are storage only: who may
//     moderate (the broadcaster's Ed25519 signature) is checked by the caller.
//
// Wire and storage form: protobuf (package commentspb), the project's wire
// format. The ID is SHA-256 over a separate canonical encoding (see
// canonicalBytes in comment.go), since protobuf encoding is not canonical.
package comments
