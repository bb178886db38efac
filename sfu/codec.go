package sfu

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// kindOf derives the media kind from a codec's MIME type.
func kindOf(c webrtc.RTPCodecCapability) webrtc.RTPCodecType {
	mt := strings.ToLower(c.MimeType)
	switch {
	case strings.HasPrefix(mt, "audio/"):
		return webrtc.RTPCodecTypeAudio
	case strings.HasPrefix(mt, "video/"):
		return webrtc.RTPCodecTypeVideo
	default:
		return 0
	}
}

func isH264(c webrtc.RTPCodecCapability) bool {
	return strings.EqualFold(c.MimeType, webrtc.MimeTypeH264)
}

// matchCodec picks the negotiated codec that can carry media of codec want:
// same MIME type and clock rate (and channel count where both give one);
// for H.264 also the same packetization-mode and a profile the receiver can
// decode, preferring the exact profile. It wraps webrtc.ErrUnsupportedCodec
// when nothing fits.
func matchCodec(want webrtc.RTPCodecCapability, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, error) {
	best, bestScore := -1, 0
	for i, c := range have {
		if !strings.EqualFold(c.MimeType, want.MimeType) || c.ClockRate != want.ClockRate {
			continue
		}
		if want.Channels != 0 && c.Channels != 0 && c.Channels != want.Channels {
			continue
		}
		score := 1
		if isH264(want) {
			score = h264Score(want.SDPFmtpLine, c.SDPFmtpLine)
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("%w: %s %s", webrtc.ErrUnsupportedCodec, want.MimeType, want.SDPFmtpLine)
	}
	return have[best], nil
}

// h264Score rates a receiver's H.264 fmtp for a stream with fmtp stream:
// 0 unusable, 1 decodable, 2 same profile.
func h264Score(stream, receiver string) int {
	s, r := parseFmtp(stream), parseFmtp(receiver)
	if pm(s) != pm(r) {
		return 0
	}
	sp, sraw, ok1 := parseProfile(s["profile-level-id"])
	rp, rraw, ok2 := parseProfile(r["profile-level-id"])
	if !ok1 || !ok2 {
		return 0
	}
	switch {
	case sraw == rraw, sp == rp && sp != profileOther:
		return 2
	case profileDecodable(sp, rp):
		return 1
	default:
		return 0
	}
}

func pm(f map[string]string) string {
	if v, ok := f["packetization-mode"]; ok {
		return v
	}
	return "0" // RFC 6184 default
}

// parseFmtp splits "a=b;c=d" into lower-case keys.
func parseFmtp(line string) map[string]string {
	m := map[string]string{}
	for part := range strings.SplitSeq(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if k != "" {
			m[strings.ToLower(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// h264Profile is an H.264 profile as WebRTC distinguishes them.
type h264Profile int

const (
	profileOther h264Profile = iota
	profileConstrainedBaseline
	profileBaseline
	profileMain
	profileConstrainedHigh
	profileHigh
)

// parseProfile classifies a profile-level-id (profile_idc and constraint
// flags; the level is ignored, as level asymmetry is allowed). An absent
// profile-level-id means 42000a, Baseline (RFC 6184).
// raw is profile_idc and the constraint flags (the level stripped).
func parseProfile(plid string) (p h264Profile, raw uint16, ok bool) {
	if plid == "" {
		plid = "42000a"
	}
	b, err := hex.DecodeString(plid)
	if err != nil || len(b) != 3 {
		return profileOther, 0, false
	}
	idc, iop := b[0], b[1]
	return classify(idc, iop), uint16(idc)<<8 | uint16(iop), true
}

func classify(idc, iop byte) h264Profile {
	set0, set1 := iop&0x80 != 0, iop&0x40 != 0
	switch {
	case idc == 0x42 && set1, idc == 0x4d && set0, idc == 0x58 && set0 && set1:
		return profileConstrainedBaseline
	case idc == 0x42:
		return profileBaseline
	case idc == 0x4d:
		return profileMain
	case idc == 0x64 && iop&0x0c == 0x0c:
		return profileConstrainedHigh
	case idc == 0x64:
		return profileHigh
	default:
		return profileOther
	}
}

// profileDecodable reports whether a decoder for profile receiver can
// decode a stream of profile stream (Constrained Baseline is a subset of
// Baseline, Main and High; Main and Constrained High of High).
func profileDecodable(stream, receiver h264Profile) bool {
	if stream == profileOther || receiver == profileOther {
		return false // unknown profiles only match exactly
	}
	switch stream {
	case profileConstrainedBaseline:
		return true
	case profileMain, profileConstrainedHigh:
		return receiver == profileHigh
	default:
		return false
	}
}
