// Package node is Canopy's volunteer relay node: it keeps a libp2p link to a
// parent in a stream's relay tree (and switches to a backup parent when that
// link fails), verifies every segment against the origin's Ed25519 key,
// caches a window of segments per stream, broadcast and rendition, fans new
// segments out to its children through bounded per-child queues, reports to
// a tracker, and serves the cache over HTTP as HLS and DASH. The origin's
// root node is a Node in root mode that receives segments through Publish.
//
// A child whose queue overflows is sent Skipped and continues at the live
// edge; a relay node that receives Skipped subscribes to its parent again
// from its first missing sequence, so the gap is back-filled from the
// parent's cache instead of being passed down the tree.
package node
