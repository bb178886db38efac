// Package sfu fans one track of low-latency media out to many WebRTC viewers.
//
// Its one job is the per-track forwarding core of Canopy's selective forwarding
// unit: a Track takes upstream RTP packets (from ffmpeg at the origin, or from
// a parent on a relay node) and hands them to every DownTrack bound to a
// viewer's pion PeerConnection. Signalling (WHEP) and session lifetime belong
// to package sfu/whep.
//
// Data path:
//
//   - Track.WriteRTP stores a copy of each packet in one shared ring per Track
//     (indexed by upstream sequence number) and queues it to every viewer
//     without blocking: each viewer has its own bounded queue and writer
//     goroutine, and a viewer whose queue is full loses packets (counted) and
//     waits for the next keyframe to resume cleanly.
//   - Each DownTrack rewrites SSRC, payload type, sequence number and
//     timestamp for its viewer. A viewer starts at a keyframe (H.264 IDR or
//     SPS; every Opus packet), with sequence numbers continuous from a random
//     start and timestamps offset from a random start. Gaps that the Track
//     itself introduces (packets before the start, drops on a full queue, an
//     upstream switch) never show up as gaps downstream; real upstream loss
//     does, so the viewer's NACK and PLI machinery sees it.
//   - Track.Switch (or a change of upstream SSRC) marks a new upstream source,
//     for example a relay node switching parent: each viewer continues its
//     sequence (+1) and its timestamp (advanced by the wall-clock gap) and
//     waits for the next keyframe, so viewers never renegotiate.
//   - Each bound DownTrack reads its sender's RTCP itself: NACKs are answered
//     from the Track's ring and PLI/FIR become a Track-level keyframe request
//     that is coalesced and sent upstream at most once per KeyframeInterval.
//     Callers must therefore not read RTCP from the RTPSender (no
//     RTPSender.Read/ReadRTCP loop) for a DownTrack.
//
// NewAPI builds the pion API that a viewer-facing PeerConnection should use:
// H.264 and Opus, RTCP reports and transport-wide congestion control sequence
// numbers, and no pion NACK responder (retransmission is the Track's job).
package sfu
