package chatapi

import (
	"strings"
	"testing"

	"github.com/canopylive/canopy/node/comments"
)

func TestCursorRoundTrip(t *testing.T) {
	c := comments.Cursor{HLC: comments.Timestamp{WallMS: 1795762051588, Logical: 3}, ID: strings.Repeat("a", comments.IDLength)}
	got, err := parseCursor(formatCursor(c))
	if err != nil || got != c {
		t.Fatalf("round trip %+v %v", got, err)
	}
	if got, err := parseCursor("1795762051588"); err != nil || got.HLC.WallMS != 1795762051588 || got.ID != "" {
		t.Fatalf("bare time: %+v %v", got, err)
	}
	for _, bad := range []string{"", "x", "-5", "1.2", "1.x.abc", "1.2." + strings.Repeat("a", 33), "1.99999999999.a"} {
		if _, err := parseCursor(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseCursor: any string gives a cursor that formats back to an
// equivalent one, or an error.
func FuzzParseCursor(f *testing.F) {
	f.Add("1795762051588.0.604472b2be2e2330f4f4131f9b463188")
	f.Add("12")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			return
		}
		if c.HLC.WallMS < 0 || len(c.ID) > comments.IDLength {
			t.Fatalf("parsed %q to %+v", s, c)
		}
		again, err := parseCursor(formatCursor(c))
		if err != nil || again != c {
			t.Fatalf("%q: %+v re-parses to %+v, %v", s, c, again, err)
		}
	})
}
