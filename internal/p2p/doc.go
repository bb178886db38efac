// Package p2p builds the libp2p hosts that Canopy's tracker, relay nodes and
// the origin's root node run on: a persistent Ed25519 identity, TCP and QUIC
// transports, and NAT traversal switched on only where asked for.
package p2p
