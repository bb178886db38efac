package web

import (
	"regexp"
	"testing"
)

func TestValidStreamName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"demo", true}, {"A-b_c.9", true}, {"x", true},
		{"", false}, {".", false}, {"..", false}, {"...", true},
		{"a/b", false}, {"a b", false}, {"é", false}, {"a%2F", false},
		{string(make([]byte, 65)), false},
	}
	for _, tc := range tests {
		if got := validStreamName(tc.in); got != tc.want {
			t.Errorf("validStreamName(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false}, {"gzip", true}, {"GZIP", true}, {"br, gzip", true}, {"deflate, br", false},
		{"gzip;q=0", false}, {"gzip; q=0.0", false}, {"gzip;q=0.5", true}, {"*", true},
		{"*;q=0", false}, {"gzip;q=bad", false}, {"identity", false},
	}
	for _, tc := range tests {
		if got := acceptsGzip(tc.in); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

var streamNameRef = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func FuzzValidStreamName(f *testing.F) {
	for _, s := range []string{"demo", "..", "a/b", "x.y-z_1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := streamNameRef.MatchString(s) && s != "." && s != ".."
		if got := validStreamName(s); got != want {
			t.Fatalf("validStreamName(%q) = %v, reference says %v", s, got, want)
		}
	})
}

func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "br;q=1, gzip;q=0.1", "*;q=0", ";;,,=", "gzip;q="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Adding a coding that refuses gzip never turns a refusal into consent.
		if !acceptsGzip(s) && acceptsGzip(s+", gzip;q=0") {
			t.Fatalf("acceptsGzip(%q) changed by appending a refusal", s)
		}
	})
}

func TestHashedAssetNames(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"watch-ABCD2345.js", true}, {"chunk-ABCD2345.js.map", true}, {"style-0f3a9c1d.css", true},
		{"watch.js", false}, {"watch-ABC.js", false}, {"watch-ABCD2345.js.gz", false}, {"notes.txt", false},
	}
	for _, tc := range tests {
		if got := hashedAsset.MatchString(tc.in); got != tc.want {
			t.Errorf("hashed(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
