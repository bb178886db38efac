package comments

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto/commentspb"
)

// Moderation limits.
const (
	// MaxAnnouncementChars bounds an announcement's text.
	MaxAnnouncementChars = 280
	// MinAnnouncement and MaxAnnouncement bound its display duration.
	MinAnnouncement = time.Second
	MaxAnnouncement = time.Hour
	// MaxSignedActionSize bounds an encoded SignedAction.
	MaxSignedActionSize = 4096
)

// Announcement kinds.
const (
	AnnounceNews       = "news"
	AnnounceDisclaimer = "disclaimer"
)

// sigDomain separates moderation signatures from every other signature made
// with the same key (segment records).
const sigDomain = "canopy/moderation/v1\x00"

// ActionKind says what an Action does.
type ActionKind int

// The moderation acts.
const (
	ActDelete ActionKind = iota + 1
	ActBan
	ActAnnounce
)

func (k ActionKind) String() string {
	switch k {
	case ActDelete:
		return "delete"
	case ActBan:
		return "ban"
	case ActAnnounce:
		return "announce"
	}
	return fmt.Sprintf("ActionKind(%d)", int(k))
}

// Announcement is what an ActAnnounce shows.
type Announcement struct {
	Kind     string // AnnounceNews or AnnounceDisclaimer
	Text     string
	Duration time.Duration
}

// Action is one moderation act on a stream by its broadcaster.
type Action struct {
	Stream    string
	At        Timestamp
	Nonce     [NonceSize]byte
	Kind      ActionKind
	CommentID string       // ActDelete
	Author    string       // ActBan
	Announce  Announcement // ActAnnounce
}

// Until is when an announcement stops showing (zero for other acts).
func (a Action) Until() time.Time {
	if a.Kind != ActAnnounce {
		return time.Time{}
	}
	return a.At.Time().Add(a.Announce.Duration)
}

// SignedAction is an Action with the broadcaster's signature. Body is the
// exact encoding that was signed; ID identifies it (lowercase hex of the
// first 16 bytes of SHA-256 over Body).
type SignedAction struct {
	Action
	ID   string
	Body []byte
	Sig  []byte
}

// Validation errors of moderation, wrapping ErrInvalid.
var (
	// ErrBadSignature: an action not signed by the stream's broadcaster.
	ErrBadSignature = errors.New("moderation not signed by the broadcaster's key")
	// ErrBadAction: a malformed moderation action.
	ErrBadAction = errors.New("invalid moderation action")
)

// ValidateAction checks a's fields (not who signed it).
func ValidateAction(a Action) error {
	if err := ValidateStream(a.Stream); err != nil {
		return err
	}
	if a.At.WallMS <= 0 {
		return fmt.Errorf("%w: %w %s", ErrInvalid, ErrBadTimestamp, a.At)
	}
	switch a.Kind {
	case ActDelete:
		if !validID(a.CommentID) {
			return fmt.Errorf("%w: %w: comment ID %q is not %d hex characters", ErrInvalid, ErrBadAction, truncate(a.CommentID, 80), IDLength)
		}
	case ActBan:
		return ValidateAuthor(a.Author)
	case ActAnnounce:
		if a.Announce.Kind != AnnounceNews && a.Announce.Kind != AnnounceDisclaimer {
			return fmt.Errorf("%w: %w: announcement kind %q is not %q or %q", ErrInvalid, ErrBadAction,
				truncate(a.Announce.Kind, 40), AnnounceNews, AnnounceDisclaimer)
		}
		if err := validateString("announcement", a.Announce.Text, MaxAnnouncementChars, true); err != nil {
			return err
		}
		if d := a.Announce.Duration; d < MinAnnouncement || d > MaxAnnouncement {
			return fmt.Errorf("%w: %w: announcement duration %s not in %s..%s", ErrInvalid, ErrBadAction, d, MinAnnouncement, MaxAnnouncement)
		}
	default:
		return fmt.Errorf("%w: %w: unknown kind %d", ErrInvalid, ErrBadAction, a.Kind)
	}
	return nil
}

// SignAction validates a and signs it with key.
func SignAction(key ed25519.PrivateKey, a Action) (SignedAction, error) {
	if err := ValidateAction(a); err != nil {
		return SignedAction{}, err
	}
	body, err := proto.Marshal(actionPB(a))
	if err != nil {
		return SignedAction{}, fmt.Errorf("%w: %w", ErrBadAction, err)
	}
	sig := ed25519.Sign(key, signedBytes(body))
	return SignedAction{Action: a, ID: actionID(body), Body: body, Sig: sig}, nil
}

// EncodeSigned returns the wire and storage form of sa.
func EncodeSigned(sa SignedAction) []byte {
	b, _ := proto.Marshal(&commentspb.SignedAction{Action: sa.Body, Signature: sa.Sig})
	return b
}

// VerifyAction parses the wire form, checks the signature against pub and
// validates the action.
func VerifyAction(pub ed25519.PublicKey, b []byte) (SignedAction, error) {
	if len(b) > MaxSignedActionSize {
		return SignedAction{}, fmt.Errorf("%w: %w: %d bytes, max %d", ErrInvalid, ErrBadAction, len(b), MaxSignedActionSize)
	}
	var env commentspb.SignedAction
	if err := proto.Unmarshal(b, &env); err != nil {
		return SignedAction{}, fmt.Errorf("%w: %w: %w", ErrInvalid, ErrBadAction, err)
	}
	if len(pub) != ed25519.PublicKeySize || len(env.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(pub, signedBytes(env.Action), env.Signature) {
		return SignedAction{}, fmt.Errorf("%w: %w", ErrInvalid, ErrBadSignature)
	}
	a, err := decodeAction(env.Action)
	if err != nil {
		return SignedAction{}, err
	}
	if err := ValidateAction(a); err != nil {
		return SignedAction{}, err
	}
	return SignedAction{Action: a, ID: actionID(env.Action), Body: env.Action, Sig: env.Signature}, nil
}

func signedBytes(body []byte) []byte {
	return append([]byte(sigDomain), body...)
}

func actionID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:IDLength/2])
}

func actionPB(a Action) *commentspb.Action {
	m := &commentspb.Action{Stream: a.Stream, WallMs: a.At.WallMS, Logical: a.At.Logical, Nonce: a.Nonce[:]}
	switch a.Kind {
	case ActDelete:
		m.Kind = &commentspb.Action_Delete{Delete: &commentspb.DeleteComment{Id: a.CommentID}}
	case ActBan:
		m.Kind = &commentspb.Action_Ban{Ban: &commentspb.BanAuthor{Author: a.Author}}
	case ActAnnounce:
		m.Kind = &commentspb.Action_Announce{Announce: &commentspb.Announce{
			Kind: a.Announce.Kind, Text: a.Announce.Text, DurationMs: uint32(a.Announce.Duration / time.Millisecond)}}
	}
	return m
}

func decodeAction(b []byte) (Action, error) {
	var m commentspb.Action
	if err := proto.Unmarshal(b, &m); err != nil {
		return Action{}, fmt.Errorf("%w: %w: %w", ErrInvalid, ErrBadAction, err)
	}
	if len(m.Nonce) != NonceSize {
		return Action{}, fmt.Errorf("%w: %w: nonce is %d bytes, want %d", ErrInvalid, ErrBadAction, len(m.Nonce), NonceSize)
	}
	a := Action{Stream: m.Stream, At: Timestamp{WallMS: m.WallMs, Logical: m.Logical}}
	copy(a.Nonce[:], m.Nonce)
	switch k := m.Kind.(type) {
	case *commentspb.Action_Delete:
		a.Kind, a.CommentID = ActDelete, k.Delete.GetId()
	case *commentspb.Action_Ban:
		a.Kind, a.Author = ActBan, k.Ban.GetAuthor()
	case *commentspb.Action_Announce:
		a.Kind = ActAnnounce
		a.Announce = Announcement{Kind: k.Announce.GetKind(), Text: k.Announce.GetText(),
			Duration: time.Duration(k.Announce.GetDurationMs()) * time.Millisecond}
	}
	return a, nil
}
