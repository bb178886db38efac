// Command wstracker benchmarks Canopy's browser tracker (tracker/webtorrent)
// against bittorrent-tracker's own Server (the reference WebTorrent tracker,
// from web/node_modules, run by node with only its WebSocket server).
//
// A Go load client (this program re-executed with -load-client, a child
// process, so that its goroutines, heap and garbage collection are never
// charged to the tracker being measured) opens -peers WebSocket
// connections spread over -swarms swarms (20-character ASCII info_hash and
// peer_id, as p2p-media-loader sends). Each peer announces -rounds times
// (event started, then update), with 1 or 2 dummy offers (a 640-byte SDP
// each) and numwant 5, and answers every offer it receives, so the
// trackers also relay offers and answers. A round's announces are spread
// evenly over -spread. The command measures
//
//   - announce latency: from writing the announce to reading its reply
//     (the message carrying "interval"), p50/p90/p99/max over all peers
//     and rounds;
//   - memory per peer, after a full GC, with every peer connected and
//     idle: for Canopy's tracker, which runs in this process, the runtime's
//     heap and stack deltas and the process's RSS delta; for
//     bittorrent-tracker, the RSS delta of its node process (from
//     /proc/<pid>/status, after a forced GC in node).
//
// bittorrent-tracker runs first, then Canopy's tracker. The command prints
// a ratio line (canopy / bittorrent-tracker) for latency and RSS per peer;
// if node or the package is missing it says why and measures Canopy's
// tracker alone. The machine's other load shows in the latencies: compare
// runs made at the same time. Run it from the repository root:
// `go run ./bench/wstracker` (-h for the flags).
package main
