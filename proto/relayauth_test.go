package proto

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestRelayAuth(t *testing.T) {
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := peer.IDFromPrivateKey(priv)
	now := time.Unix(1_800_000_000, 0)
	good, err := SignRelayAuth(priv, "tracker.example:8080", now)
	if err != nil {
		t.Fatal(err)
	}
	otherSig, _ := SignRelayAuth(other, "tracker.example:8080", now)
	f := strings.Fields(good)
	tests := []struct {
		name, value, host string
		at                time.Time
		ok                bool
	}{
		{"valid", good, "tracker.example:8080", now, true},
		{"valid within skew", good, "tracker.example:8080", now.Add(RelayAuthMaxSkew - time.Second), true},
		{"too old", good, "tracker.example:8080", now.Add(RelayAuthMaxSkew + time.Second), false},
		{"from the future", good, "tracker.example:8080", now.Add(-RelayAuthMaxSkew - time.Second), false},
		{"other host", good, "evil.example:8080", now, false},
		{"another key's signature", f[0] + " " + f[1] + " " + f[2] + " " + strings.Fields(otherSig)[3], "tracker.example:8080", now, false},
		{"changed time", f[0] + " " + f[1] + " " + "1800000001" + " " + f[3], "tracker.example:8080", now, false},
		{"wrong version", "v2" + good[2:], "tracker.example:8080", now, false},
		{"empty", "", "tracker.example:8080", now, false},
		{"garbage", "v1 x y z", "tracker.example:8080", now, false},
		{"oversize", good + strings.Repeat(" ", 600), "tracker.example:8080", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := VerifyRelayAuth(tt.value, tt.host, tt.at)
			if tt.ok {
				if err != nil || id != want {
					t.Fatalf("got %v, %v; want %v", id, err, want)
				}
				return
			}
			if !errors.Is(err, ErrRelayAuth) {
				t.Fatalf("got %v, %v; want ErrRelayAuth", id, err)
			}
		})
	}
}

func FuzzVerifyRelayAuth(f *testing.F) {
	priv, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	good, _ := SignRelayAuth(priv, "h", now)
	f.Add(good)
	f.Add("v1 12D3KooW 1 AAAA")
	f.Fuzz(func(t *testing.T, v string) {
		id, err := VerifyRelayAuth(v, "h", now)
		if err == nil && id == "" {
			t.Fatal("accepted without a peer ID")
		}
	})
}
