// Package webtorrent is Canopy's browser tracker: it speaks the WebTorrent
// tracker protocol over WebSocket, as bittorrent-tracker's websocket client
// (the one p2p-media-loader 2.x uses) expects it, and relays WebRTC
// offers and answers between the peers of a swarm.
//
// Protocol, as seen from the client: every message is a JSON text frame.
// A peer announces {"action":"announce","info_hash","peer_id","numwant",
// "event","offers":[{"offer","offer_id"}]}; info_hash and peer_id are
// 20-character "binary strings" (code points 0-255). The tracker answers
// with {"action":"announce","interval","info_hash","complete","incomplete"}
// and forwards one offer each to up to min(numwant, len(offers)) other
// peers of the swarm as {"action":"announce","offer","offer_id","peer_id",
// "info_hash"}. A peer answers an offer with an announce carrying "answer",
// "to_peer_id" and "offer_id"; the tracker forwards it to that peer and
// sends nothing back. {"action":"scrape","info_hash":[...]} is answered
// with per-hash complete/incomplete/downloaded counts. Errors are answered
// with {"failure reason": "..."}.
//
// Peers for an announcer's offers are picked: at most two relay nodes
// (clients whose upgrade request passed Params.RelayAuth), then viewers in
// the announcer's network (IPv4 /24, IPv6 /64), then any viewer, then more
// relays when viewers run out; at random within each group.
//
// Ownership: the registry (one mutex) owns every swarm and membership;
// each connection owns its reader loop and a bounded outgoing queue drained
// by a writer goroutine that exists only while the queue is not empty, so a
// slow reader loses messages (counted) and never blocks a swarm. Members
// are dropped when their socket closes, when they announce "stopped", and
// when they have been silent for Params.PeerTimeout.
package webtorrent
