package webtorrent

import (
	"encoding/hex"
	"encoding/json"
	"unicode/utf8"
)

// idLen is the length of info_hash and peer_id values.
const idLen = 20

// binID is a 20-byte info_hash or peer_id. On the wire it is a "binary
// string": a JSON string of 20 characters with code points 0-255, one per
// byte (p2p-media-loader's are plain ASCII).
type binID [idLen]byte

// decodeBinID reads a JSON string of exactly 20 characters in 0-255.
func decodeBinID(raw json.RawMessage) (binID, bool) {
	var id binID
	if len(raw) < 2 || raw[0] != '"' {
		return id, false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return id, false
	}
	n := 0
	for _, r := range s {
		if r > 0xff || n == idLen {
			return id, false
		}
		id[n] = byte(r)
		n++
	}
	return id, n == idLen
}

// String is the binary string as a Go (UTF-8) string: what a JavaScript
// client sees after JSON.parse.
func (id binID) String() string {
	buf := make([]byte, 0, 2*idLen)
	for _, b := range id {
		buf = utf8.AppendRune(buf, rune(b))
	}
	return string(buf)
}

// Hex is the lower-case hexadecimal form (bittorrent-tracker's "infoHash").
func (id binID) Hex() string { return hex.EncodeToString(id[:]) }

// MarshalJSON writes the binary string.
func (id binID) MarshalJSON() ([]byte, error) { return json.Marshal(id.String()) }
