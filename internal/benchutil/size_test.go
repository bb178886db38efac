package benchutil

import (
	"errors"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want int
		ok   bool
	}{
		{"4096", 1 << 20, 4096, true},
		{"64KiB", 1 << 20, 64 << 10, true},
		{"1 MiB", 1 << 20, 1 << 20, true},
		{"1.5MB", 2e6, 1_500_000, true},
		{"4k", 1 << 20, 4096, true},
		{"2M", 4 << 20, 2 << 20, true},
		{"2MiB", 1 << 20, 0, false},
		{"0", 1 << 20, 0, false},
		{"-1KiB", 1 << 20, 0, false},
		{"lots", 1 << 20, 0, false},
	} {
		got, err := ParseSize(tc.in, tc.max)
		if (err == nil) != tc.ok || got != tc.want || (err != nil && !errors.Is(err, ErrSize)) {
			t.Errorf("ParseSize(%q, %d) = %d, %v; want %d, ok %v", tc.in, tc.max, got, err, tc.want, tc.ok)
		}
	}
}
