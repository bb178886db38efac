package comments

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto/commentspb"
)

func TestIDDeterministic(t *testing.T) {
	c := mk("demo", "ann", "hello", 1_700_000_000_000, 3, 42)
	// Golden value: changing it changes every stored ID, so it must be a
	// deliberate change of the canonical encoding (and of idDomain). It was
	// computed independently (Python hashlib) from the encoding documented
	// on canonicalBytes.
	const golden = "c6372d768a3b41aa4f985bd67f14fa06"
	if got := c.ComputeID(); got != c.ID {
		t.Fatalf("ComputeID() = %s, NewComment set %s", got, c.ID)
	}
	if c.ID != golden {
		t.Errorf("ID = %s, want golden %s", c.ID, golden)
	}
	if len(c.ID) != IDLength || !validID(c.ID) {
		t.Errorf("ID %q is not %d lowercase hex characters", c.ID, IDLength)
	}
	again := mk("demo", "ann", "hello", 1_700_000_000_000, 3, 42)
	if again.ID != c.ID {
		t.Errorf("same content gave %s and %s", c.ID, again.ID)
	}
}

func TestIDUniqueness(t *testing.T) {
	base := mk("demo", "ann", "hello", 1000, 0, 1)
	tests := []struct {
		name string
		c    Comment
	}{
		{"same text, new nonce (posted twice)", mk("demo", "ann", "hello", 1000, 0, 2)},
		{"other stream", mk("demo2", "ann", "hello", 1000, 0, 1)},
		{"other author", mk("demo", "bob", "hello", 1000, 0, 1)},
		{"other text", mk("demo", "ann", "hello!", 1000, 0, 1)},
		{"other wall ms", mk("demo", "ann", "hello", 1001, 0, 1)},
		{"other logical", mk("demo", "ann", "hello", 1000, 1, 1)},
		{"author/text boundary moved", mk("demo", "annh", "ello", 1000, 0, 1)},
		{"stream/author boundary moved", mk("dem", "oann", "hello", 1000, 0, 1)},
	}
	seen := map[string]string{base.ID: "base"}
	for _, tt := range tests {
		if prev, ok := seen[tt.c.ID]; ok {
			t.Errorf("%s: ID %s equals that of %s", tt.name, tt.c.ID, prev)
		}
		seen[tt.c.ID] = tt.name
	}
}

func TestEncodeDecode(t *testing.T) {
	c := mk("demo", "Zoë 🌲", "line one\nline two ✓", 1_700_000_000_123, 7, 99)
	b, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got != c {
		t.Fatalf("round trip: got %+v, want %+v", got, c)
	}
	if err := Validate(got); err != nil {
		t.Errorf("decoded comment does not validate: %v", err)
	}
	b2, _ := Encode(got)
	if !bytes.Equal(b, b2) {
		t.Errorf("re-encoding differs")
	}
}

func TestDecodeErrors(t *testing.T) {
	marshal := func(m *commentspb.Comment) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nonce := make([]byte, NonceSize)
	tests := []struct {
		name string
		b    []byte
	}{
		{"garbage", []byte{0xff, 0xff, 0xff}},
		{"empty (no nonce)", nil},
		{"short nonce", marshal(&commentspb.Comment{Stream: "demo", Nonce: nonce[:8]})},
		{"long nonce", marshal(&commentspb.Comment{Stream: "demo", Nonce: append(nonce, 0)})},
		{"negative timestamp", marshal(&commentspb.Comment{Stream: "demo", Nonce: nonce, WallMs: -1})},
		{"invalid UTF-8 string", append([]byte{0x1a, 2, 0xc3, 0x28}, marshal(&commentspb.Comment{Nonce: nonce})...)},
	}
	for _, tt := range tests {
		if _, err := Decode(tt.b); !errors.Is(err, ErrDecode) {
			t.Errorf("%s: Decode error = %v, want ErrDecode", tt.name, err)
		}
	}
}
