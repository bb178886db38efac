package node

import (
	"bytes"
	"io"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/canopylive/canopy/proto"
)

// TestSegmentFiles: every cached segment has a file copy that HTTP serves
// (byte for byte), copies leave with the window, and a missing copy falls
// back to memory.
func TestSegmentFiles(t *testing.T) {
	o := newOrigin(t, 1, 8<<10)
	root := startNode(t, Params{OriginKey: o.pub, Root: true, Window: 10e9}) // 10 s: five 2 s segments
	o.publishInits(t, root)
	for seq := range uint64(12) {
		o.publishColumn(t, root, seq)
	}
	first, want, ok := root.Segment(testStream, "r0", proto.KindMedia, 11)
	if !ok {
		t.Fatal("segment 11 not cached")
	}
	if _, err := os.Stat(root.files.path(first)); err != nil {
		t.Fatalf("no file copy of a cached segment: %v", err)
	}
	old := first
	old.Sequence = 0
	if _, err := os.Stat(root.files.path(old)); !os.IsNotExist(err) {
		t.Errorf("segment 0 left the window but its file is still there: %v", err)
	}

	get := func(seq uint64) []byte {
		rr := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/live/"+testStream+"/r0/"+proto.Segment{Kind: proto.KindMedia, Sequence: seq}.FileName(), nil)
		root.Handler().ServeHTTP(rr, req)
		if rr.Code != 200 {
			t.Fatalf("GET segment %d: %d", seq, rr.Code)
		}
		b, _ := io.ReadAll(rr.Body)
		return b
	}
	if got := get(11); !bytes.Equal(got, want) {
		t.Error("served file copy differs from the segment")
	}
	if err := os.Remove(root.files.path(first)); err != nil {
		t.Fatal(err)
	}
	if got := get(11); !bytes.Equal(got, want) {
		t.Errorf("without its file the segment is not served from memory: %d bytes, want %d", len(got), len(want))
	}
}
