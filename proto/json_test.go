package proto

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	pub, priv := testKey(t, 1)
	for _, tc := range []struct {
		name string
		seg  Segment
	}{
		{"sealed media", Seal(mediaSegment(), testData, priv)},
		{"sealed init", Seal(initSegment(), testData, priv)},
		{"unsealed media", mediaSegment()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.seg)
			if err != nil {
				t.Fatal(err)
			}
			var got Segment
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if !sameSegment(&got, &tc.seg) {
				t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", got, tc.seg)
			}
			if tc.seg.Signature != nil {
				if err := got.VerifyData(pub, testData); err != nil {
					t.Fatalf("VerifyData after round trip: %v", err)
				}
			}
		})
	}
}

func TestJSONForm(t *testing.T) {
	_, priv := testKey(t, 1)
	s := Seal(mediaSegment(), testData, priv)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{
		"stream":            "demo",
		"broadcast":         "20261127T013000Z",
		"rendition":         "720p",
		"kind":              "media",
		"sequence":          42.0,
		"discontinuity":     1.0,
		"start_us":          84e6,
		"duration_us":       2002e3,
		"program_date_time": "2026-11-27T01:31:24.123Z",
		"length":            float64(len(testData)),
	} {
		if m[key] != want {
			t.Errorf("%s = %#v, want %#v", key, m[key], want)
		}
	}
	if h, _ := m["sha256"].(string); len(h) != 64 || strings.ToLower(h) != h {
		t.Errorf("sha256 = %q, want 64 lowercase hex digits", h)
	}
	if sig, _ := m["signature"].(string); len(sig) != 88 {
		t.Errorf("signature = %q, want 88 base64 characters", sig)
	}
	if len(m) != 12 {
		t.Errorf("got %d keys, want 12: %v", len(m), m)
	}
}

func TestJSONRejects(t *testing.T) {
	_, priv := testKey(t, 1)
	good, err := json.Marshal(Seal(mediaSegment(), testData, priv))
	if err != nil {
		t.Fatal(err)
	}
	var base map[string]any
	if err := json.Unmarshal(good, &base); err != nil {
		t.Fatal(err)
	}
	with := func(key string, v any) string {
		m := map[string]any{}
		for k, x := range base {
			m[k] = x
		}
		if v == nil {
			delete(m, key)
		} else {
			m[key] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name, in string
	}{
		{"unknown field", with("extra", 1)},
		{"short sha256", with("sha256", strings.Repeat("a", 62))},
		{"non-hex sha256", with("sha256", strings.Repeat("g", 64))},
		{"missing sha256", with("sha256", nil)},
		{"short signature", with("signature", "AAAA")},
		{"bad base64 signature", with("signature", strings.Repeat("!", 88))},
		{"url base64 signature", with("signature", strings.Repeat("_", 86)+"==")},
		{"kind unknown", with("kind", "audio")},
		{"kind number", with("kind", 2)},
		{"bad stream name", with("stream", "a/b")},
		{"empty rendition", with("rendition", "")},
		{"negative duration", with("duration_us", -1)},
		{"huge start", with("start_us", 1<<62)},
		{"bad date", with("program_date_time", "yesterday")},
		{"missing date on media", with("program_date_time", nil)},
		{"sub-ms date", with("program_date_time", "2026-11-27T01:31:24.1234Z")},
		{"too long", with("length", MaxSegmentLength+1)},
		{"trailing data", string(good) + "{}"},
		{"not an object", `[]`},
		{"null fields", `{"stream":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Segment
			err := json.Unmarshal([]byte(tc.in), &s)
			if err == nil {
				t.Fatalf("Unmarshal(%s) succeeded: %+v", tc.in, s)
			}
			var syn *json.SyntaxError
			if !errors.Is(err, ErrInvalidSegment) && !errors.As(err, &syn) {
				t.Fatalf("err = %v, want ErrInvalidSegment", err)
			}
		})
	}
}

func TestJSONTrailingDataDirect(t *testing.T) {
	b, err := json.Marshal(mediaSegment())
	if err != nil {
		t.Fatal(err)
	}
	var s Segment
	if err := s.UnmarshalJSON(append(b, " 1"...)); !errors.Is(err, ErrInvalidSegment) {
		t.Fatalf("UnmarshalJSON with trailing data = %v, want ErrInvalidSegment", err)
	}
}

func FuzzSegmentJSON(f *testing.F) {
	_, priv := testKey(f, 1)
	for _, s := range []Segment{Seal(mediaSegment(), testData, priv), Seal(initSegment(), nil, priv), mediaSegment()} {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"stream":"a","broadcast":"b","rendition":"c","kind":"init","sha256":"` + strings.Repeat("0", 64) + `"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var s Segment
		if err := json.Unmarshal(in, &s); err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Unmarshal accepted an invalid record: %v", err)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal of accepted record: %v", err)
		}
		var again Segment
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-Unmarshal(%s): %v", b, err)
		}
		if !sameSegment(&s, &again) {
			t.Fatalf("unstable round trip:\n%+v\n%+v", s, again)
		}
		b2, err := json.Marshal(again)
		if err != nil || string(b2) != string(b) {
			t.Fatalf("second Marshal differs: %s vs %s (%v)", b, b2, err)
		}
	})
}
