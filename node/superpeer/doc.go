// Package superpeer makes a relay node an always-on peer in the browser
// swarms of p2p-media-loader 2.x: it joins the WebTorrent tracker swarm of
// every rendition the node carries, connects to browsers over WebRTC data
// channels (pion), announces the segments the node holds the moment they
// exist and uploads them in p2p-media-loader's peer protocol. It only ever
// uploads; it never downloads from browsers.
//
// The protocol facts it relies on (swarm ids, info hashes, tracker messages,
// command encoding) are written up in PROTOCOL.md and pinned by golden
// vectors produced with the p2p-media-loader 2.3.1 and hls.js 1.7.4
// TypeScript sources (testdata/p2pml_golden.json, testdata/gen_golden.ts).
package superpeer
