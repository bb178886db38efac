package commentsync

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/canopylive/canopy/node/comments"
)

func TestRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		q       request
		wantErr bool
	}{
		{"from start", request{Stream: "demo", Limit: 1}, false},
		{"cursor", request{Stream: "a-b_c", After: comments.Cursor{HLC: comments.Timestamp{WallMS: 17, Logical: 3}, ID: "00112233445566778899aabbccddeeff"}, Limit: MaxPageSize}, false},
		{"zero limit", request{Stream: "demo", Limit: 0}, true},
		{"limit too big", request{Stream: "demo", Limit: MaxPageSize + 1}, true},
		{"bad stream", request{Stream: "a/b", Limit: 5}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readRequest(bytes.NewReader(tc.q.encode()))
			if tc.wantErr {
				if !errors.Is(err, ErrWire) {
					t.Fatalf("err %v, want ErrWire", err)
				}
				return
			}
			if err != nil || got != tc.q {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.q)
			}
		})
	}
}

func TestCommentsRoundTrip(t *testing.T) {
	var cs []comments.Comment
	for i := range 5 {
		cs = append(cs, comments.NewComment("demo", "bob", label(i), comments.Timestamp{WallMS: time.Now().UnixMilli(), Logical: uint32(i)}, [comments.NonceSize]byte{byte(i)}))
	}
	var buf bytes.Buffer
	if err := writeComments(&buf, cs); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	got, err := readComments(bytes.NewReader(raw), 5)
	if err != nil || len(got) != 5 || got[4] != cs[4] {
		t.Fatalf("got %d, %v", len(got), err)
	}
	if _, err := readComments(bytes.NewReader(raw), 4); !errors.Is(err, ErrWire) {
		t.Fatalf("over limit: err %v, want ErrWire", err)
	}
	if _, err := readComments(bytes.NewReader(raw[:len(raw)-1]), 5); !errors.Is(err, ErrWire) {
		t.Fatalf("truncated: err %v, want ErrWire", err)
	}
	if _, err := readComments(bytes.NewReader([]byte{0xff, 0xff, 0x01}), 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: err %v, want ErrTooLarge", err)
	}
}

func FuzzReadRequest(f *testing.F) {
	f.Add(request{Stream: "demo", Limit: 10}.encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := readRequest(bytes.NewReader(b))
		if err != nil {
			return
		}
		again, err := readRequest(bytes.NewReader(q.encode()))
		if err != nil || again != q {
			t.Fatalf("re-encoding %+v gives %+v, %v", q, again, err)
		}
	})
}

func FuzzReadComments(f *testing.F) {
	var buf bytes.Buffer
	c := comments.NewComment("demo", "bob", "hi", comments.Timestamp{WallMS: 5}, [comments.NonceSize]byte{})
	_ = writeComments(&buf, []comments.Comment{c})
	f.Add(buf.Bytes())
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := readComments(bytes.NewReader(b), 3)
		if len(cs) > 3 {
			t.Fatalf("%d comments over limit 3 (err %v)", len(cs), err)
		}
	})
}
