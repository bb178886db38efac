// A stand-in for WebRTC with just enough of RTCPeerConnection for
// simple-peer to produce offers and answers (prepared SDP, each tagged
// with a unique marker) and to accept the remote ones. It never connects:
// the interop test exercises the tracker protocol, not WebRTC.
let counter = 0

// Every remote description received, in order: { type, marker }.
export const received = []

function prepared (type, marker) {
  return [
    'v=0', `o=- ${marker.length} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0',
    'a=ice-ufrag:stub', 'a=ice-pwd:stubstubstubstubstubstub',
    `a=setup:${type === 'offer' ? 'actpass' : 'active'}`, 'a=mid:0', 'a=sctp-port:5000',
    `a=x-canopy-marker:${marker}`,
    'a=candidate:1 1 udp 2122260223 192.0.2.1 9 typ host', ''
  ].join('\r\n')
}

export class RTCSessionDescription {
  constructor (init) { this.type = init.type; this.sdp = init.sdp }
}

export class RTCIceCandidate {
  constructor (init) { Object.assign(this, init) }
}

class DataChannel {
  constructor (label) {
    this.label = label
    this.readyState = 'connecting'
    this.bufferedAmount = 0
    this.bufferedAmountLowThreshold = 0
  }

  send () {}
  close () { this.readyState = 'closed' }
}

export class RTCPeerConnection {
  constructor () {
    this.marker = `${process.env.STUB_TAG || 'stub'}-${++counter}`
    this.signalingState = 'stable'
    this.iceGatheringState = 'new'
    this.iceConnectionState = 'new'
    this.connectionState = 'new'
    this.localDescription = null
    this.remoteDescription = null
  }

  createDataChannel (label) { return new DataChannel(label) }
  async createOffer () { return { type: 'offer', sdp: prepared('offer', this.marker) } }
  async createAnswer () { return { type: 'answer', sdp: prepared('answer', this.marker) } }

  async setLocalDescription (desc) {
    this.localDescription = new RTCSessionDescription(desc)
    this.signalingState = desc.type === 'offer' ? 'have-local-offer' : 'stable'
    setTimeout(() => { // gathering "completes" at once: non-trickle signal goes out
      this.iceGatheringState = 'complete'
      if (this.onicecandidate) this.onicecandidate({ candidate: null })
    }, 0)
  }

  async setRemoteDescription (desc) {
    this.remoteDescription = new RTCSessionDescription(desc)
    this.signalingState = desc.type === 'offer' ? 'have-remote-offer' : 'stable'
    const m = /a=x-canopy-marker:(\S+)/.exec(desc.sdp || '')
    received.push({ type: desc.type, marker: m ? m[1] : null })
  }

  async addIceCandidate () {}
  async getStats () { return new Map() }
  getSenders () { return [] }
  getTransceivers () { return [] }
  close () { this.signalingState = 'closed' }
}

export default { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate }
