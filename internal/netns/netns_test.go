package netns

import (
	"context"
	"errors"
	"testing"
)

// TestNewRejectsBadParams checks the checks that run before anything is
// created.
func TestNewRejectsBadParams(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"no prefix", Params{Subnet: "10.213.0", Members: []string{"a"}}},
		{"no subnet", Params{Prefix: "x", Members: []string{"a"}}},
		{"no members", Params{Prefix: "x", Subnet: "10.213.0"}},
		{"long name", Params{Prefix: "x", Subnet: "10.213.0", Members: []string{"toolongname"}}},
		{"bad char", Params{Prefix: "x", Subnet: "10.213.0", Members: []string{"a-b"}}},
		{"duplicate", Params{Prefix: "x", Subnet: "10.213.0", Members: []string{"a", "a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(context.Background(), tc.p)
			if err == nil {
				_ = n.Close()
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrIP) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want ErrIP", err)
			}
		})
	}
}
