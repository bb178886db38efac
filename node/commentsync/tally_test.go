package commentsync

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto/commentspb"
)

// signedTally signs a tally of testStream with key.
func signedTally(t testing.TB, key crypto.PrivKey, m *commentspb.Tally) []byte {
	t.Helper()
	body, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := key.Sign(append([]byte(tallyDomain), body...))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.Marshal(&commentspb.SignedTally{Tally: body, Signature: sig})
	return b
}

func nodeKey(t testing.TB) (crypto.PrivKey, peer.ID) {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, id
}

func TestDecodeTally(t *testing.T) {
	key, id := nodeKey(t)
	other, _ := nodeKey(t)
	good := &commentspb.Tally{Stream: testStream, Node: id.String(), Seq: 7, Reactions: map[string]uint64{"like": 3}, Viewers: 2}
	gotID, nt, err := decodeTally(testStream, signedTally(t, key, good))
	if err != nil || gotID != id || nt.seq != 7 || nt.reactions["like"] != 3 || nt.viewers != 2 {
		t.Fatalf("good tally: %v %+v %v", gotID, nt, err)
	}
	impostor := signedTally(t, other, good) // claims id, signed by another key
	wrongStream := signedTally(t, key, &commentspb.Tally{Stream: "other", Node: id.String(), Seq: 1})
	badKind := signedTally(t, key, &commentspb.Tally{Stream: testStream, Node: id.String(), Seq: 1, Reactions: map[string]uint64{"boo": 1}})
	for name, b := range map[string][]byte{
		"impostor": impostor, "wrong stream": wrongStream, "unknown kind": badKind,
		"garbage": {0xff, 0x00, 0x13}, "oversize": make([]byte, maxTallySize+1),
	} {
		if _, _, err := decodeTally(testStream, b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDecodeTally: any bytes give a verified tally or an error, never a
// panic.
func FuzzDecodeTally(f *testing.F) {
	key, id := nodeKey(f)
	f.Add(signedTally(f, key, &commentspb.Tally{Stream: testStream, Node: id.String(), Seq: 1, Reactions: map[string]uint64{"clap": 9}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, nt, err := decodeTally(testStream, b)
		if err != nil {
			if !errors.Is(err, ErrWire) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v wraps neither ErrWire nor ErrTooLarge", err)
			}
			return
		}
		if got == "" || len(nt.reactions) > 5 {
			t.Fatalf("accepted %v %+v", got, nt)
		}
	})
}

// FuzzReadActions: a moderation log response parser never panics and never
// returns more or larger actions than the limits.
func FuzzReadActions(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{3, 1, 2, 3, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _ := readActions(bytes.NewReader(b))
		for _, a := range out {
			if len(a) == 0 || len(a) > 4096 {
				t.Fatalf("action of %d bytes", len(a))
			}
		}
	})
}
