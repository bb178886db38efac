// Command whepload measures how many packets per second per CPU core
// Canopy's sfu forwards when one node serves one stream to many WebRTC
// viewers over WHEP.
//
// This process is the node: a video sfu.Track (H.264 constrained baseline
// 42e01f, packetization-mode 1) and an audio sfu.Track (Opus, 48 kHz
// stereo) fed by a paced synthetic source shaped like a 720p30 stream at
// -bitrate (default 2.5 Mbit/s): every 33.3 ms the RTP packets of one frame
// (payloads of at most 1200 bytes; each second a keyframe, an SPS+PPS
// STAP-A then an IDR of about 60 KB in FU-A fragments; between them
// P-frames of about 8.7 KB, also in FU-A fragments; timestamps +3000 a
// frame, the marker on a frame's last packet) and one 160-byte Opus packet
// every 20 ms. The payload bytes are filler: the structure is real enough
// for the sfu's keyframe detection, nothing decodes the pictures. A
// whep.Server over the two tracks, with the pion API of sfu.NewAPI and ICE
// restricted to loopback (superpeer.LoopbackSettings), is served by
// net/http on 127.0.0.1.
//
// A load client in a child process (this program re-executed with
// -load-client, so that its CPU, heap and garbage collection are never
// charged to the node) opens -viewers WHEP sessions with whep.Dial,
// -dial-batch at a time, reads every RTP packet of both tracks and counts
// them per viewer, and the sequence numbers each track advanced by (the
// sfu keeps a viewer's sequence continuous across its own drops, so a gap
// is a packet lost on the way). Once every viewer receives video, and after
// -warmup, the command measures for -window, rounded up to whole GOPs: both
// samples are taken while the feeder pauses just before writing a
// keyframe, so they bracket the same point of the stream. It reads this
// process's CPU time (user+system, getrusage), the packets the sfu
// forwarded (from the tracks' counters: packets in × viewers bound −
// dropped + retransmitted), the packets the viewers read, the child's CPU
// time, the machine's CPU use and UDP counters, and this process's RSS. It
// prints packets per second and packets per second per core used (packets
// forwarded per second of the node's CPU time), next to LiveKit's
// published figure of about 35,000 packets/s per core, which is cited and
// not measured here.
//
// Both processes share the machine, so the viewers' decryption competes
// with the node for the same cores; the report says how busy the machine
// was. A run where a viewer did not receive, the source fell behind, the
// viewers lost more than 0.1 % of packets, the sfu dropped any, or
// retransmissions were over 1 % of the packets forwarded is reported as not
// valid and the command exits with status 1: its per-core figure would
// count a NACK storm, not forwarding. Run it from the repository root:
// `go run ./bench/whepload` (-h for the flags).
package main
