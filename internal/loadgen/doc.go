// Package loadgen runs headless viewers that behave like Canopy's browser
// player, for load tests: each Viewer reads the page server's stream and
// player APIs, plays one rendition of a live HLS stream with a simulated
// playhead at the player's target latency, learns and checks the origin's
// signed segment records, joins the rendition's p2p-media-loader swarm
// through the WebTorrent tracker (pion data channels, the peer protocol of
// node/superpeer), downloads, announces and uploads segments within an
// upload cap, and picks HTTP or P2P per segment with internal/playrules.
// A Runner starts many viewers with a ramp and churn, samples their
// counters and the origin's /metrics (HTTP and relay-tree egress), and
// produces a Result (JSON, charts) with a log of each viewer's stalls; an
// EdgeWatch measures how late page servers list new segments.
package loadgen
