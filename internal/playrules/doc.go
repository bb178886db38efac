// Package playrules states the player's source-choice rules in Go: the
// time windows of web/src/p2pconfig.js (liveWindows) and how
// p2p-media-loader-core 2.3.1's hybrid loader decides, for one segment,
// whether to fetch it over HTTP, from a peer, or not yet (see
// node/superpeer/PROTOCOL.md). It is pure: the load generator and the
// simulator share it so both behave like the real page.
package playrules
