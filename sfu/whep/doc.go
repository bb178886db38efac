// Package whep serves WebRTC-HTTP Egress Protocol sessions (RFC 9725) for a
// server's low-latency media: POST /live/{stream}/whep with an SDP offer
// creates a session (201 Created, the SDP answer, and its URL in
// Location); PATCH on that URL with a trickle-ICE SDP fragment adds the
// client's candidates or restarts ICE; DELETE ends it. Each session is one
// pion PeerConnection whose tracks are sfu.DownTracks of the stream's
// sfu.Tracks, so every viewer shares one receive buffer per track.
//
// It owns signalling and session lifetime only: forwarding, retransmission
// and keyframe handling are package sfu's.
package whep
