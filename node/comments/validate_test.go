package comments

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateText(t *testing.T) {
	tests := []struct {
		name string
		text string
		want error // nil: valid
	}{
		{"one character", "a", nil},
		{"exactly 500 ASCII", strings.Repeat("a", 500), nil},
		{"exactly 500 four-byte runes", strings.Repeat("🌲", 500), nil},
		{"501 characters", strings.Repeat("a", 501), ErrTooLong},
		{"501 multibyte characters", strings.Repeat("é", 501), ErrTooLong},
		{"huge", strings.Repeat("x", 1<<20), ErrTooLong},
		{"empty", "", ErrEmpty},
		{"only spaces", "   ", ErrEmpty},
		{"only newlines", "\n\n", ErrEmpty},
		{"newline allowed", "first\nsecond", nil},
		{"tab", "a\tb", ErrControlChar},
		{"carriage return", "a\r\nb", ErrControlChar},
		{"NUL", "a\x00b", ErrControlChar},
		{"escape", "\x1b[31mred", ErrControlChar},
		{"DEL", "a\x7f", ErrControlChar},
		{"C1 control", "a\u0085b", ErrControlChar},
		{"bidi override", "abc\u202Edef", ErrControlChar},
		{"bidi isolate", "\u2066x\u2069", ErrControlChar},
		{"zero-width joiner emoji allowed", "👩\u200d💻", nil},
		{"invalid UTF-8", "a\xc3\x28", ErrBadUTF8},
		{"truncated UTF-8", "a\xe2\x82", ErrBadUTF8},
		{"surrogate half", "\xed\xa0\x80", ErrBadUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateText(tt.text)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("ValidateText = %v, want %v", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestValidateAuthor(t *testing.T) {
	tests := []struct {
		name   string
		author string
		want   error
	}{
		{"plain", "ann", nil},
		{"exactly 40", strings.Repeat("ñ", 40), nil},
		{"41", strings.Repeat("n", 41), ErrTooLong},
		{"empty", "", ErrEmpty},
		{"blank", " \u00a0", ErrEmpty},
		{"newline not allowed", "a\nb", ErrControlChar},
		{"control", "a\x07", ErrControlChar},
		{"invalid UTF-8", "\xff", ErrBadUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateAuthor(tt.author)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("ValidateAuthor = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := mk("demo", "ann", "hi", 1000, 0, 1)
	tampered := good
	tampered.Text = "hi!"
	tests := []struct {
		name string
		c    Comment
		want error
	}{
		{"valid", good, nil},
		{"text changed after ID", tampered, ErrBadID},
		{"ID uppercased", func() Comment { c := good; c.ID = strings.ToUpper(c.ID); return c }(), ErrBadID},
		{"no ID", func() Comment { c := good; c.ID = ""; return c }(), ErrBadID},
		{"bad stream", mk("de/mo", "ann", "hi", 1000, 0, 1), ErrBadStream},
		{"empty stream", mk("", "ann", "hi", 1000, 0, 1), ErrBadStream},
		{"zero timestamp", mk("demo", "ann", "hi", 0, 0, 1), ErrBadTimestamp},
		{"bad author", mk("demo", "", "hi", 1000, 0, 1), ErrEmpty},
		{"bad text", mk("demo", "ann", strings.Repeat("a", 501), 1000, 0, 1), ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.c)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}
