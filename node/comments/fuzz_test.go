package comments

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzDecodeComment(f *testing.F) {
	for _, c := range []Comment{
		mk("demo", "ann", "hello", 1000, 0, 1),
		mk("demo", "Zoë", "multi\nline 🌲", 1_700_000_000_000, 99, 2),
	} {
		b, err := Encode(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				t.Fatalf("Decode error %v does not wrap ErrDecode", err)
			}
			return
		}
		if c.HLC.WallMS < 0 {
			t.Fatalf("decoded a negative timestamp %v", c.HLC)
		}
		enc, err := Encode(c)
		if err != nil {
			t.Fatalf("decoded comment does not encode: %v", err)
		}
		c2, err := Decode(enc)
		if err != nil || c2 != c {
			t.Fatalf("re-decode = %+v, %v; want %+v", c2, err, c)
		}
		// Validate must never panic, and a valid comment has its own ID.
		if Validate(c) == nil && c.ID != c.ComputeID() {
			t.Fatalf("Validate accepted a mismatched ID")
		}
	})
}

func FuzzValidateText(f *testing.F) {
	for _, s := range []string{"hello", "", " ", "a\nb", "a\tb", "\xff", "🌲👩\u200d💻", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateText(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8 %q", s)
		}
		if n := utf8.RuneCountInString(s); n < 1 || n > MaxTextChars {
			t.Fatalf("accepted %d characters", n)
		}
		visible := false
		for _, r := range s {
			if r != '\n' && unicode.Is(unicode.Cc, r) {
				t.Fatalf("accepted control character %U", r)
			}
			if !unicode.IsSpace(r) {
				visible = true
			}
		}
		if !visible {
			t.Fatalf("accepted blank text %q", s)
		}
		if err := ValidateAuthor(s); err == nil && utf8.RuneCountInString(s) > MaxAuthorChars {
			t.Fatalf("author of %d characters accepted", utf8.RuneCountInString(s))
		}
	})
}

// FuzzVerifyAction: whatever the bytes, VerifyAction returns a validated
// action signed by the key, or an ErrInvalid error; it never panics.
func FuzzVerifyAction(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := key.Public().(ed25519.PublicKey)
	for i, kind := range []ActionKind{ActDelete, ActBan, ActAnnounce} {
		a := act(kind, 1_700_000_000_000, byte(i))
		sa, err := SignAction(key, a)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(EncodeSigned(sa))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		sa, err := VerifyAction(pub, b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if ValidateAction(sa.Action) != nil || !ed25519.Verify(pub, signedBytes(sa.Body), sa.Sig) {
			t.Fatalf("accepted an invalid or unsigned action %+v", sa.Action)
		}
	})
}
