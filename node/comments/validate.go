package comments

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/canopylive/canopy/proto"
)

// Limits in characters (Unicode code points, not bytes).
const (
	MaxTextChars   = 500
	MaxAuthorChars = 40
)

// ValidateText checks a comment's text:
//   - valid UTF-8;
//   - 1 to MaxTextChars characters, at least one of them not white space;
//   - no control character (Unicode category Cc) except '\n', so a comment
//     may have several lines but no tab, carriage return, escape or NUL;
//   - no bidirectional embedding, override or isolate character (U+202A to
//     U+202E, U+2066 to U+2069), which would reorder the text displayed
//     around it in a chat panel. Other format characters (zero-width joiner
//     in emoji, for example) are allowed.
func ValidateText(text string) error {
	return validateString("text", text, MaxTextChars, true)
}

// ValidateAuthor checks an author name: the rules of ValidateText, with
// MaxAuthorChars and no '\n' either.
func ValidateAuthor(author string) error {
	return validateString("author", author, MaxAuthorChars, false)
}

// ValidateStream checks a stream name (proto.ValidName).
func ValidateStream(stream string) error {
	if !proto.ValidName(stream) {
		return fmt.Errorf("%w: %w %q: 1 to %d characters from A-Z a-z 0-9 _ -",
			ErrInvalid, ErrBadStream, truncate(stream, 80), proto.MaxNameLength)
	}
	return nil
}

// Validate checks every field of c and that c.ID is the ID its content
// determines. It is what both the accepting node and the gossipsub topic
// validator run; whether the stream exists is the caller's to check.
func Validate(c Comment) error {
	if err := ValidateStream(c.Stream); err != nil {
		return err
	}
	if err := ValidateAuthor(c.Author); err != nil {
		return err
	}
	if err := ValidateText(c.Text); err != nil {
		return err
	}
	if c.HLC.WallMS <= 0 {
		return fmt.Errorf("%w: %w %s", ErrInvalid, ErrBadTimestamp, c.HLC)
	}
	if want := c.ComputeID(); c.ID != want {
		return fmt.Errorf("%w: %w: got %q, content gives %q", ErrInvalid, ErrBadID, truncate(c.ID, 80), want)
	}
	return nil
}

func validateString(field, s string, maxChars int, allowNewline bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is %w", ErrInvalid, field, ErrBadUTF8)
	}
	n := 0
	for i, r := range s {
		n++
		if n > maxChars {
			return fmt.Errorf("%w: %s %w: more than %d characters", ErrInvalid, field, ErrTooLong, maxChars)
		}
		if badRune(r, allowNewline) {
			return fmt.Errorf("%w: %s: %w: %U at byte %d", ErrInvalid, field, ErrControlChar, r, i)
		}
	}
	if strings.TrimFunc(s, unicode.IsSpace) == "" {
		return fmt.Errorf("%w: %s is %w", ErrInvalid, field, ErrEmpty)
	}
	return nil
}

func badRune(r rune, allowNewline bool) bool {
	switch {
	case r == '\n':
		return !allowNewline
	case unicode.Is(unicode.Cc, r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
