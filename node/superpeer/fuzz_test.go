package superpeer

import (
	"encoding/hex"
	"slices"
	"testing"
)

// FuzzDecodeCommand feeds arbitrary bodies to the decoder: it must not
// panic, and whatever it accepts must survive encode/decode unchanged.
func FuzzDecodeCommand(f *testing.F) {
	for _, gc := range loadGolden(f).Commands {
		for _, h := range gc.Frames {
			b, _ := hex.DecodeString(h)
			if len(gc.Frames) == 1 {
				f.Add(b[frameLen : len(b)-frameLen])
			}
		}
	}
	f.Add([]byte{0, 'l', 0x10, 0x02, 0x01, 0x02, 0x05, 0x06, 0x02, 0x01, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeCommand(body)
		if err != nil {
			return
		}
		again, err := encodeCommand(c)
		if err != nil {
			if c.typ == cmdAnnouncement {
				return // more ids than an announcement may carry
			}
			t.Fatalf("decoded %+v but cannot encode it: %v", c, err)
		}
		c2, err := decodeCommand(again)
		if err != nil {
			t.Fatalf("re-encoded %+v does not decode: %v", c, err)
		}
		// Encoding regroups ids by their high bytes: compare id lists as
		// multisets.
		for _, l := range [][]int64{c.loaded, c.loading, c2.loaded, c2.loading} {
			slices.Sort(l)
		}
		if !sameCommand(c, c2) {
			t.Fatalf("round trip changed %+v into %+v", c, c2)
		}
	})
}

// FuzzJoinFrames splits arbitrary input into messages and feeds them to
// the joiner and decoder, as a browser's data channel would.
func FuzzJoinFrames(f *testing.F) {
	f.Add([]byte("cstr\x01i\x01\x05r\x01\x01cend"), uint8(0))
	f.Add([]byte("cstr\x00l\x10denddstr\x01\x01\x01\x07cend"), uint8(12))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		var j joiner
		msgs := [][]byte{data}
		if int(cut) < len(data) {
			msgs = [][]byte{data[:cut], data[cut:]}
		}
		for _, m := range msgs {
			if !isCommandMessage(m) {
				continue
			}
			body, err := j.add(m)
			if err != nil || body == nil {
				continue
			}
			if len(body) > maxJoined {
				t.Fatalf("joined %d bytes", len(body))
			}
			_, _ = decodeCommand(body)
		}
	})
}

// FuzzParseAttrList checks the HLS attribute parser and the short id never
// panic.
func FuzzParseAttrList(f *testing.F) {
	f.Add(`BANDWIDTH=3000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000`)
	f.Add(`A="`)
	f.Fuzz(func(t *testing.T, s string) {
		attrs := parseAttrList(s)
		if id := variantShortID(attrs); len(id) != 28 {
			t.Fatalf("short id %q", id)
		}
	})
}
