package proto

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"
)

// testKey derives a deterministic key so failures are reproducible.
func testKey(t testing.TB, seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

func mediaSegment() Segment {
	return Segment{
		Stream:          "demo",
		Broadcast:       "20261127T013000Z",
		Rendition:       "720p",
		Kind:            KindMedia,
		Sequence:        42,
		Discontinuity:   1,
		Start:           84 * time.Second,
		Duration:        2002 * time.Millisecond,
		ProgramDateTime: time.Date(2026, 11, 27, 1, 31, 24, 123e6, time.UTC),
	}
}

func initSegment() Segment {
	return Segment{
		Stream:        "demo",
		Broadcast:     "20261127T013000Z",
		Rendition:     "720p",
		Kind:          KindInit,
		Sequence:      1,
		Discontinuity: 1,
	}
}

// sameSegment compares every field: SigningBytes covers all but Signature.
func sameSegment(a, b *Segment) bool {
	return bytes.Equal(a.SigningBytes(), b.SigningBytes()) && bytes.Equal(a.Signature, b.Signature)
}

var testData = []byte("not really an fMP4 fragment, but bytes all the same")
