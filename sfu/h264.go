package sfu

// H.264 NAL unit types used for keyframe detection (RFC 6184).
const (
	nalIDR  = 5
	nalSPS  = 7
	nalSTAP = 24 // STAP-A
	nalFUA  = 28 // FU-A
)

func isKeyNAL(t byte) bool { return t == nalIDR || t == nalSPS }

// h264HasKeyStart reports whether an RTP payload (packetization-mode 1)
// begins an IDR slice or carries an SPS: a single NAL unit of type 5 or 7, a
// STAP-A containing one, or the first fragment (start bit) of an FU-A whose
// inner type is 5 or 7.
func h264HasKeyStart(payload []byte) bool {
	if len(payload) == 0 {
		return false
	}
	switch t := payload[0] & 0x1f; t {
	case nalSTAP:
		for off := 1; off+2 <= len(payload); {
			size := int(payload[off])<<8 | int(payload[off+1])
			off += 2
			if size == 0 || off+size > len(payload) {
				return false
			}
			if isKeyNAL(payload[off] & 0x1f) {
				return true
			}
			off += size
		}
		return false
	case nalFUA:
		if len(payload) < 2 {
			return false
		}
		fu := payload[1]
		return fu&0x80 != 0 && isKeyNAL(fu&0x1f)
	default:
		return isKeyNAL(t)
	}
}

// keyframeDetector finds the first packet of each H.264 keyframe access
// unit. An access unit is the run of packets sharing one RTP timestamp; its
// first packet carrying an SPS or the start of an IDR slice is the keyframe
// start, so a viewer starting there gets SPS, PPS and every slice (later
// slices or parameter sets of the same access unit are not starts).
type keyframeDetector struct {
	has   bool
	ts    uint32
	keyAU bool // the current access unit already had a key start
}

// start reports whether the packet with timestamp ts and payload is the
// first packet of a keyframe. Packets must be given in arrival order.
func (k *keyframeDetector) start(ts uint32, payload []byte) bool {
	if !k.has || ts != k.ts {
		k.has, k.ts, k.keyAU = true, ts, false
	}
	if k.keyAU || !h264HasKeyStart(payload) {
		return false
	}
	k.keyAU = true
	return true
}

// reset forgets the current access unit (the upstream source changed).
func (k *keyframeDetector) reset() { *k = keyframeDetector{} }
