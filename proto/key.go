package proto

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
)

// EncodePublicKey returns pub in standard (padded) base64, the form the
// origin publishes and the configuration accepts.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// DecodePublicKey parses the form written by EncodePublicKey. It returns
// ErrBadPublicKey unless s is canonical standard base64 of exactly
// ed25519.PublicKeySize bytes.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPublicKey, err)
	}
	if base64.StdEncoding.EncodeToString(b) != s { // the decoder skips newlines
		return nil, fmt.Errorf("%w: not canonical base64", ErrBadPublicKey)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadPublicKey, len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}
