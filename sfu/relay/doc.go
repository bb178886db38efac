// Package relay carries a stream's low-latency media from a relay node's
// parent to the node over the libp2p connection of the relay tree: one
// libp2p stream per track ("/canopy/rtp/1.0.0"), RTP packets framed with a
// length, RTCP keyframe requests going back up the same stream.
//
// Why libp2p streams and not WebRTC between nodes: the tree's links are
// libp2p connections already (QUIC or TCP, authenticated by peer IDs,
// through NAT by hole punching or a circuit relay), so a node needs no
// second ICE, DTLS and STUN/TURN set-up per parent, and fails over to its
// backup parent with one stream open on a connection it may already have.
// QUIC repairs a lost packet in about one round trip, what a NACK would
// cost, and a stream per track keeps audio from waiting behind video. The
// price of a reliable stream is queueing under congestion; the parent's
// sender is an sfu.DownTrack with its bounded queue, which drops to the
// next keyframe rather than letting the queue grow.
//
// On the parent, each child is an sfu.DownTrack bound to the libp2p stream,
// so it gets the same keyframe start and sequence rewriting as a viewer. On
// the child, packets go into the node's own sfu.Track; a new parent shows
// as a new SSRC, which the Track treats as a source switch, so the node's
// viewers see continuous sequence numbers and timestamps.
package relay
