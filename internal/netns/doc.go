// Package netns builds a throwaway network for end-to-end tests: one Linux
// network namespace per member, each with a veth link to a bridge in a
// private hub namespace, addressed from a private /24 that exists only
// inside those namespaces. Members run programs through `ip netns exec`,
// fetch URLs through curl inside their namespace, and a member's link can
// be cut and restored. The host's own network is never touched.
//
// The package's test starts Canopy's tracker, origin, an ffmpeg publisher
// and six relay nodes, each in its own namespace, cuts an interior node's
// link mid-stream and checks that its children re-parent and keep
// receiving segments.
package netns
