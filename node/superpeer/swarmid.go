package superpeer

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // p2p-media-loader's swarm hash is SHA-1; not a security use
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/canopylive/canopy/proto/manifest"
)

// PeerIDPrefix starts the WebTorrent peer_id of every Canopy relay node;
// pages count bytes from such peers as "from relay nodes".
const PeerIDPrefix = "-CN0100-"

// peerIDAlphabet is the set p2p-media-loader draws peer id characters from.
const peerIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewPeerID returns PeerIDPrefix followed by 12 random characters from
// [A-Za-z0-9] read from rnd (crypto/rand.Reader in production).
func NewPeerID(rnd io.Reader) (string, error) {
	tail, err := randomString(rnd, 20-len(PeerIDPrefix))
	if err != nil {
		return "", err
	}
	return PeerIDPrefix + tail, nil
}

// randomString draws n characters from peerIDAlphabet without modulo bias.
func randomString(rnd io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return "", fmt.Errorf("superpeer: random: %w", err)
		}
		for _, b := range buf {
			if int(b) < 256-256%len(peerIDAlphabet) && len(out) < n {
				out = append(out, peerIDAlphabet[int(b)%len(peerIDAlphabet)])
			}
		}
	}
	return string(out), nil
}

// SwarmID is the core swarmId the Canopy page configures for a broadcast.
func SwarmID(stream, broadcast string) string {
	return "canopy:" + stream + ":" + broadcast
}

// StreamSwarmID returns the per-rendition swarm id p2p-media-loader-hlsjs
// 2.3.1 derives for swarm id SwarmID(stream, broadcast) and the variant
// that manifest.HLSMultivariant writes for r:
// "v2-<swarmId>-main-<short id of the variant's attributes>". r must be the
// rendition exactly as rendered into the master playlist browsers load.
func StreamSwarmID(stream, broadcast string, r manifest.Rendition) (string, error) {
	playlist, err := manifest.HLSMultivariant([]manifest.Rendition{r})
	if err != nil {
		return "", fmt.Errorf("%w: rendition %q: %w", ErrInvalidParams, r.Name, err)
	}
	const tag = "#EXT-X-STREAM-INF:"
	for line := range strings.Lines(string(playlist)) {
		if rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), tag); ok {
			return "v2-" + SwarmID(stream, broadcast) + "-main-" + variantShortID(parseAttrList(rest)), nil
		}
	}
	return "", fmt.Errorf("%w: rendition %q: no variant in playlist", ErrInvalidParams, r.Name)
}

// InfoHash returns the 20-character WebTorrent info_hash of a stream swarm
// id: standard base64 of the first 15 bytes of its SHA-1.
func InfoHash(streamSwarmID string) string {
	sum := sha1.Sum([]byte(streamSwarmID)) //nolint:gosec // see import
	return base64.StdEncoding.EncodeToString(sum[:15])
}

// parseAttrList splits an HLS attribute list (KEY=VALUE, comma separated,
// quoted values may hold commas) into a map; quotes are removed.
func parseAttrList(s string) map[string]string {
	attrs := map[string]string{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		key := strings.TrimSpace(s[:eq])
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:1+end], s[2+end:]
			}
			if i := strings.IndexByte(s, ','); i >= 0 {
				s = s[i+1:]
			} else {
				s = ""
			}
		} else if i := strings.IndexByte(s, ','); i >= 0 {
			val, s = s[:i], s[i+1:]
		} else {
			val, s = s, ""
		}
		attrs[key] = val
	}
	return attrs
}

// videoSampleEntries are the codec prefixes hls.js 1.7.4 counts as video.
var videoSampleEntries = []string{
	"avc1", "avc2", "avc3", "avc4", "avcp", "av01", "dav1", "drac", "dva1", "dvav",
	"dvh1", "dvhe", "encv", "hev1", "hvc1", "mjp2", "mp4v", "mvc1", "mvc2", "mvc3",
	"mvc4", "resv", "rv60", "s263", "svc1", "svc2", "vc-1", "vp08", "vp09",
}

// variantShortID reproduces generateStreamShortId for an EXT-X-STREAM-INF
// as p2p-media-loader-hlsjs feeds it hls.js's parsed level.
func variantShortID(attrs map[string]string) string {
	bitrate := jsParseInt(attrs["BANDWIDTH"])
	if bitrate == "" || bitrate == "0" {
		bitrate = jsParseInt(attrs["AVERAGE-BANDWIDTH"])
	}
	if bitrate == "" {
		bitrate = "NaN"
	}
	var codecs, width, height, frameRate, videoRange string
	if bitrate != "0" {
		codecs = normalizeCodecs(videoCodecs(attrs["CODECS"]))
		width, height = parseResolution(attrs["RESOLUTION"])
		frameRate = jsNumberString(attrs["FRAME-RATE"])
		videoRange = strings.ToUpper(strings.TrimSpace(attrs["VIDEO-RANGE"]))
	}
	str := strings.Join([]string{bitrate, codecs, width, height, "", "", "", frameRate, videoRange}, "-")
	sum := sha1.Sum([]byte(str)) //nolint:gosec // see import
	return base64.StdEncoding.EncodeToString(sum[:])
}

// jsParseInt mimics parseInt(s, 10) for the decimal prefix of s, returned
// as text ("" for NaN).
func jsParseInt(s string) string {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return ""
	}
	n, err := strconv.ParseUint(s[:end], 10, 64)
	if err != nil || n > 1<<53-1 {
		return "Infinity"
	}
	if neg && n != 0 {
		return "-" + strconv.FormatUint(n, 10)
	}
	return strconv.FormatUint(n, 10)
}

// videoCodecs keeps the video entries of a CODECS attribute like hls.js.
func videoCodecs(s string) string {
	var out []string
	for _, c := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		if len(c) >= 4 && slices.Contains(videoSampleEntries, c[:4]) {
			out = append(out, strings.SplitN(c, "/", 2)[0])
		}
	}
	return strings.Join(out, ",")
}

// normalizeCodecs lowercases, converts decimal avc1.P.L to hex, sorts.
func normalizeCodecs(s string) string {
	if s == "" {
		return ""
	}
	parts := strings.Split(s, ",")
	for i, c := range parts {
		c = strings.ToLower(strings.TrimSpace(c))
		if f := strings.Split(c, "."); len(f) == 3 && (f[0] == "avc1" || f[0] == "avc") {
			p, err1 := strconv.Atoi(f[1])
			l, err2 := strconv.Atoi(f[2])
			if err1 == nil && err2 == nil && p >= 0 && l >= 0 && strconv.Itoa(p) == f[1] && strconv.Itoa(l) == f[2] {
				c = fmt.Sprintf("%s.%02x00%02x", f[0], p, l)
			}
		}
		parts[i] = c
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// parseResolution splits WxH into decimal strings ("" when malformed).
func parseResolution(s string) (string, string) {
	w, h, ok := strings.Cut(s, "x")
	if !ok || !allDigits(w) || !allDigits(h) {
		return "", ""
	}
	return jsParseInt(w), jsParseInt(h)
}

func allDigits(s string) bool {
	return s != "" && bytes.IndexFunc([]byte(s), func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// jsNumberString mimics Number(s).toString() for a FRAME-RATE value ("" when
// absent or not a number).
func jsNumberString(s string) string {
	if s == "" {
		return ""
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	if f == 0 {
		return "0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
