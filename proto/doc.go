// Package proto holds Canopy's wire formats, shared by every component: the
// signed segment record (Segment) with its canonical signing layout, JSON
// form and file names, and the encoding of the origin's Ed25519 public key.
// It does no I/O.
package proto
