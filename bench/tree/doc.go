// Command tree benchmarks Canopy's relay tree in one process: a tracker, a
// root node (Root: true) and N relay nodes, each on its own libp2p host on
// loopback, for every N of -nodes. The root publishes synthetic sealed
// segments (random bytes) every -interval and the command measures
//
//   - propagation latency, per tree depth and per hop. Every relay node's
//     host is wrapped (node.Params.Host is an interface) so that the tree
//     stream it opens to its parent is read through a tap: a frame scanner
//     sees the wire frames pass by and notes the instant the node's reader
//     gets the last byte of each segment frame ("recv"). A short poller then
//     watches node.Sequences until the segment is in the node's cache
//     ("cached", i.e. after the node verified it; the poll ticks every
//     0.1 ms but Go timers resolve about 1 ms, so this is coarser than recv).
//     Latency is that instant minus the moment the root's Publish was
//     called; a hop is a node's instant minus its parent's (the parent being
//     the peer the frame actually came from, and the root's instant the
//     Publish call). Depth is the length of the path the segment actually
//     took; the tracker's Snapshot depth is cross-checked.
//   - origin egress: the root's tree-protocol handler streams are wrapped to
//     count every byte the root node writes to its children (application
//     bytes, before yamux framing and encryption), divided by the number of
//     published segments, and compared with fanout × segment size (what a
//     full tree should cost) and N × segment size (a plain origin serving
//     every viewer itself). The root's canopy_node_frames_forwarded_total
//     is reported next to it as a cross-check.
//
// Run it with `go run ./bench/tree -h`.
package main
