package proto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

func TestPublicKeyRoundTrip(t *testing.T) {
	pub, _ := testKey(t, 7)
	s := EncodePublicKey(pub)
	if len(s) != 44 {
		t.Fatalf("EncodePublicKey = %q, want 44 characters", s)
	}
	got, err := DecodePublicKey(s)
	if err != nil || !bytes.Equal(got, pub) {
		t.Fatalf("DecodePublicKey(%q) = %x, %v; want %x", s, got, err, pub)
	}
}

func TestDecodePublicKeyRejects(t *testing.T) {
	pub, _ := testKey(t, 7)
	good := EncodePublicKey(pub)
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"31 bytes", base64.StdEncoding.EncodeToString(pub[:31])},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(bytes.Clone(pub), 0))},
		{"unpadded", base64.RawStdEncoding.EncodeToString(pub)},
		{"url alphabet", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32))},
		{"trailing newline", good + "\n"},
		{"non-canonical last char", good[:42] + string(good[42]^1) + "="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodePublicKey(tc.in); !errors.Is(err, ErrBadPublicKey) {
				t.Fatalf("DecodePublicKey(%q) = %v, want ErrBadPublicKey", tc.in, err)
			}
		})
	}
}
