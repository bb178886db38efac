// Which peer sends what, and dropping peers that send bad segments.
//
// p2p-media-loader-core 2.3.1 already closes the connection of a peer whose
// segment fails validateP2PSegment (Peer: "p2p-segment-validation-failed",
// then destroy()). It keeps no memory of it, though: the tracker may hand
// the same peer a new connection on its next announce. So the page bans the
// peer for the rest of the session: (1) its segments fail validation at
// once, before any hashing (public API: the hook plus onSegmentStart, which
// names the peer of each P2P download); (2) when it connects again its
// connection is closed right away. p2p-media-loader has no public call to
// close a peer, so (2) reaches into the core's internals (HybridLoader ->
// P2PLoadersContainer -> P2PLoader -> P2PTrackerClient._peers), which are
// pinned by the exact 2.3.1 dependency; if they move, (1) still holds.

/** Relay nodes' WebTorrent peer IDs start with this (tracker protocol). */
export const RELAY_PREFIX = "-CN";

export class PeerBook {
  constructor() {
    /** peer id -> number of swarms (renditions) it is connected in */
    this.connected = new Map();
    /** segment URL -> peer id of the P2P download in progress */
    this.downloads = new Map();
    /** peer id -> reason, for peers dropped for bad data */
    this.banned = new Map();
    /** @type {any} p2p-media-loader engine, for closing banned peers */
    this.engine = null;
  }

  /** Wires the book to the engine's events. */
  attach(engine) {
    this.engine = engine;
    engine.addEventListener("onPeerConnect", ({ peerId }) => {
      this.connected.set(peerId, (this.connected.get(peerId) ?? 0) + 1);
      // The Peer object is stored by the tracker client only after this
      // event, so close it on the next turn.
      if (this.banned.has(peerId)) setTimeout(() => this.close(peerId), 0);
    });
    engine.addEventListener("onPeerClose", ({ peerId }) => {
      const n = (this.connected.get(peerId) ?? 1) - 1;
      if (n > 0) this.connected.set(peerId, n);
      else this.connected.delete(peerId);
    });
    engine.addEventListener("onSegmentStart", ({ segment, downloadSource, peerId }) => {
      if (downloadSource === "p2p" && peerId) this.downloads.set(segment.url, peerId);
    });
    const done = ({ segment, segmentUrl }) => this.downloads.delete(segment?.url ?? segmentUrl);
    engine.addEventListener("onSegmentLoaded", done);
    engine.addEventListener("onSegmentAbort", done);
    // onSegmentError fires after validation has run, so the mapping is still
    // there when validateP2PSegment asks.
    engine.addEventListener("onSegmentError", done);
  }

  /** @param {string} url @returns {string|undefined} the peer sending it */
  senderOf(url) {
    return this.downloads.get(url);
  }

  /** @param {string} peerId */
  isBanned(peerId) {
    return this.banned.has(peerId);
  }

  /**
   * Bans a peer that sent bytes contradicting the signed record.
   * p2p-media-loader closes its connection itself when the hook says false.
   * @param {string} peerId @param {string} reason
   */
  ban(peerId, reason) {
    if (this.banned.has(peerId)) return;
    this.banned.set(peerId, reason);
    console.warn(`canopy: dropped peer ${peerId}: sent a segment that failed verification (${reason})`);
  }

  /** Closes every connection to peerId (see the note at the top). */
  close(peerId) {
    const core = this.engine?.core;
    for (const hybrid of [core?.mainStreamLoader, core?.secondaryStreamLoader]) {
      const items = hybrid?.p2pLoaders?.loaders;
      if (!(items instanceof Map)) continue;
      for (const item of items.values()) {
        const peer = item?.loader?.trackerClient?._peers?.get(peerId)?.peer;
        try {
          peer?.destroy?.();
        } catch (err) {
          console.warn(`canopy: closing peer ${peerId}: ${err}`);
        }
      }
    }
  }

  /** @returns {string[]} connected peer ids */
  peerIds() {
    return [...this.connected.keys()];
  }
}
