package comments

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto/commentspb"
)

func testKey(t *testing.T, seed byte) ed25519.PrivateKey {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}

func act(kind ActionKind, wallMS int64, seq byte) Action {
	a := Action{Stream: "demo", At: Timestamp{WallMS: wallMS}, Kind: kind}
	a.Nonce[0] = seq
	switch kind {
	case ActDelete:
		a.CommentID = strings.Repeat("ab", IDLength/2)
	case ActBan:
		a.Author = "troll"
	case ActAnnounce:
		a.Announce = Announcement{Kind: AnnounceNews, Text: "Doors open at 8", Duration: 10 * time.Second}
	}
	return a
}

func TestSignVerifyRoundTrip(t *testing.T) {
	key := testKey(t, 1)
	pub := key.Public().(ed25519.PublicKey)
	for _, kind := range []ActionKind{ActDelete, ActBan, ActAnnounce} {
		a := act(kind, testBase.UnixMilli(), 1)
		sa, err := SignAction(key, a)
		if err != nil {
			t.Fatalf("%s: sign: %v", kind, err)
		}
		got, err := VerifyAction(pub, EncodeSigned(sa))
		if err != nil {
			t.Fatalf("%s: verify: %v", kind, err)
		}
		if got.Action != a || got.ID != sa.ID || len(got.ID) != IDLength {
			t.Fatalf("%s: round trip %+v, want %+v (id %s)", kind, got.Action, a, sa.ID)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	key, other := testKey(t, 1), testKey(t, 2)
	pub := key.Public().(ed25519.PublicKey)
	good, err := SignAction(key, act(ActDelete, testBase.UnixMilli(), 1))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := SignAction(other, act(ActDelete, testBase.UnixMilli(), 1))
	if err != nil {
		t.Fatal(err)
	}
	// The signature of one action on the body of another.
	var env commentspb.SignedAction
	if err := proto.Unmarshal(EncodeSigned(good), &env); err != nil {
		t.Fatal(err)
	}
	swapped, _ := SignAction(key, act(ActBan, testBase.UnixMilli(), 1))
	env.Action = swapped.Body[:len(swapped.Body):len(swapped.Body)]
	env.Action = append(env.Action, 0x20, 0x00) // and tampered
	tampered, _ := proto.Marshal(&env)
	// A validly signed action that is itself invalid.
	bad := act(ActAnnounce, testBase.UnixMilli(), 1)
	bad.Announce.Duration = 2 * MaxAnnouncement
	badBody, _ := proto.Marshal(actionPB(bad))
	badEnv, _ := proto.Marshal(&commentspb.SignedAction{Action: badBody, Signature: ed25519.Sign(key, signedBytes(badBody))})

	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"wrong key", EncodeSigned(forged), ErrBadSignature},
		{"tampered body", tampered, ErrBadSignature},
		{"garbage", []byte{0xff, 0x01, 0x02}, ErrBadAction},
		{"oversize", make([]byte, MaxSignedActionSize+1), ErrBadAction},
		{"invalid action", badEnv, ErrBadAction},
		{"empty", nil, ErrBadSignature},
	}
	for _, c := range cases {
		_, err := VerifyAction(pub, c.b)
		if !errors.Is(err, c.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
}

func TestValidateAction(t *testing.T) {
	ok := act(ActAnnounce, 1, 0)
	cases := map[string]func(a *Action){
		"bad stream":      func(a *Action) { a.Stream = "no/slash" },
		"no time":         func(a *Action) { a.At = Timestamp{} },
		"unknown kind":    func(a *Action) { a.Kind = 9 },
		"announce kind":   func(a *Action) { a.Announce.Kind = "ad" },
		"announce text":   func(a *Action) { a.Announce.Text = strings.Repeat("x", MaxAnnouncementChars+1) },
		"announce ctrl":   func(a *Action) { a.Announce.Text = "a\x1bb" },
		"announce short":  func(a *Action) { a.Announce.Duration = time.Millisecond },
		"delete no id":    func(a *Action) { a.Kind, a.CommentID = ActDelete, "xyz" },
		"ban empty":       func(a *Action) { a.Kind, a.Author = ActBan, " " },
		"ban long author": func(a *Action) { a.Kind, a.Author = ActBan, strings.Repeat("a", MaxAuthorChars+1) },
	}
	if err := ValidateAction(ok); err != nil {
		t.Fatalf("valid action: %v", err)
	}
	for name, mut := range cases {
		a := ok
		mut(&a)
		if err := ValidateAction(a); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
}

func TestPutActionAppliesOnce(t *testing.T) {
	s := openTest(t, StoreParams{})
	ctx := testCtx(t, 10*time.Second)
	key := testKey(t, 1)
	c := mk("demo", "troll", "spam", testBase.UnixMilli(), 0, 1)
	mustPut(t, s, []Comment{c}, 1)

	del := act(ActDelete, testBase.UnixMilli()+1000, 1)
	del.CommentID = c.ID
	sdel, _ := SignAction(key, del)
	ban, _ := SignAction(key, act(ActBan, testBase.UnixMilli()+2000, 2))
	ann, _ := SignAction(key, act(ActAnnounce, testBase.UnixMilli()+3000, 3))
	for i, sa := range []SignedAction{sdel, ban, ann} {
		isNew, err := s.PutAction(ctx, sa)
		if err != nil || !isNew {
			t.Fatalf("action %d: new=%v err=%v", i, isNew, err)
		}
		if isNew, err := s.PutAction(ctx, sa); err != nil || isNew {
			t.Fatalf("action %d again: new=%v err=%v", i, isNew, err)
		}
	}
	if s.Has(c.ID) || !s.Deleted(c.ID) {
		t.Fatal("the delete action did not remove and tombstone the comment")
	}
	if n, _ := s.Put(ctx, []Comment{c}); n != 0 {
		t.Fatal("a deleted comment was stored again")
	}
	if !s.Banned("demo", "troll") {
		t.Fatal("the ban action did not ban")
	}
	got, err := s.Actions("demo")
	if err != nil || len(got) != 3 || got[0].ID != sdel.ID || got[2].ID != ann.ID {
		t.Fatalf("Actions: %d, %v", len(got), err)
	}
	if got[2].Action != ann.Action || string(got[2].Sig) != string(ann.Sig) {
		t.Fatalf("stored announcement %+v, want %+v", got[2].Action, ann.Action)
	}
	live, _ := s.Announcements("demo", testBase.Add(5*time.Second))
	gone, _ := s.Announcements("demo", testBase.Add(14*time.Second))
	if len(live) != 1 || len(gone) != 0 {
		t.Fatalf("announcements showing at +5s: %d (want 1), at +14s: %d (want 0)", len(live), len(gone))
	}
	if other, _ := s.Actions("other"); len(other) != 0 {
		t.Fatalf("another stream has %d actions", len(other))
	}
}

func TestPutActionRefusesUnsigned(t *testing.T) {
	s := openTest(t, StoreParams{})
	a := SignedAction{Action: act(ActBan, testBase.UnixMilli(), 1)}
	if _, err := s.PutAction(testCtx(t, 5*time.Second), a); !errors.Is(err, ErrBadAction) {
		t.Fatalf("unsigned action: %v", err)
	}
	if s.Banned("demo", "troll") {
		t.Fatal("an unsigned ban was applied")
	}
}
