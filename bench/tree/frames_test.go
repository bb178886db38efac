package main

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

func segFrame(t testing.TB, rend string, kind proto.SegmentKind, seq uint64, size int) []byte {
	t.Helper()
	var b bytes.Buffer
	m := &treepb.TreeMessage{Msg: &treepb.TreeMessage_Segment{Segment: &treepb.Segment{
		Record: &treepb.SegmentRecord{
			Stream: "bench", Broadcast: "b1", Rendition: rend, Kind: uint32(kind), Sequence: seq,
			Length: uint64(size), Sha256: make([]byte, 32), Signature: make([]byte, 64),
		},
		Data: bytes.Repeat([]byte{0xab}, size),
	}}}
	if err := proto.WriteMessage(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func infoFrameBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	m := &treepb.TreeMessage{Msg: &treepb.TreeMessage_Info{Info: &treepb.StreamInfo{Stream: "bench", Broadcast: "b1"}}}
	if err := proto.WriteMessage(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestFrameScanner feeds a stream of frames in chunks of several sizes and
// checks every frame is reported once, in order, at its last byte.
func TestFrameScanner(t *testing.T) {
	var stream []byte
	stream = append(stream, infoFrameBytes(t)...)
	stream = append(stream, segFrame(t, "r0", proto.KindInit, 0, 100)...)
	stream = append(stream, segFrame(t, "r0", proto.KindMedia, 7, 200_000)...)
	stream = append(stream, segFrame(t, "r1", proto.KindMedia, 300, 0)...)
	want := []struct {
		id  segmentID
		err error
	}{
		{err: errNotSegment},
		{id: segmentID{Rendition: "r0", Kind: proto.KindInit, Sequence: 0}},
		{id: segmentID{Rendition: "r0", Kind: proto.KindMedia, Sequence: 7}},
		{id: segmentID{Rendition: "r1", Kind: proto.KindMedia, Sequence: 300}},
	}
	for _, chunk := range []int{1, 7, 4096, 65536, len(stream)} {
		sc := newFrameScanner()
		var heads [][]byte
		for off := 0; off < len(stream); off += chunk {
			h, err := sc.feed(stream[off:min(off+chunk, len(stream))])
			if err != nil {
				t.Fatalf("chunk %d: feed: %v", chunk, err)
			}
			heads = append(heads, h...)
			if off+chunk < len(stream) && len(heads) == len(want) {
				t.Fatalf("chunk %d: last frame reported before its last byte", chunk)
			}
		}
		if len(heads) != len(want) {
			t.Fatalf("chunk %d: %d frames, want %d", chunk, len(heads), len(want))
		}
		for i, w := range want {
			if len(heads[i]) > headCap {
				t.Errorf("chunk %d frame %d: head %d bytes > %d", chunk, i, len(heads[i]), headCap)
			}
			id, err := parseSegmentHead(heads[i])
			if !errors.Is(err, w.err) || (w.err == nil && id != w.id) {
				t.Errorf("chunk %d frame %d: got %+v, %v; want %+v, %v", chunk, i, id, err, w.id, w.err)
			}
		}
	}
}

func TestFrameScannerBadLength(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"varint too long", bytes.Repeat([]byte{0xff}, 11)},
		{"over max message size", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newFrameScanner().feed(tt.in); !errors.Is(err, errFrameLength) {
				t.Fatalf("err %v, want %v", err, errFrameLength)
			}
		})
	}
}

func TestParseSegmentHeadShort(t *testing.T) {
	f := segFrame(t, "r0", proto.KindMedia, 1, 10)
	_, n := protowire.ConsumeVarint(f)
	body := f[n:]
	tests := []struct {
		name string
		head []byte
		want error
	}{
		{"empty", nil, errNotSegment},
		{"tag only", body[:1], errShortHead},
		{"cut in record", body[:20], errShortHead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseSegmentHead(tt.head); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzFrameScanner checks that any byte stream, split anywhere, gives the
// same frames as fed whole, and that head parsing never panics.
func FuzzFrameScanner(f *testing.F) {
	f.Add(segFrame(f, "r0", proto.KindMedia, 3, 50), 5)
	f.Add(append(infoFrameBytes(f), segFrame(f, "r1", proto.KindInit, 0, 5000)...), 1000)
	f.Add([]byte{0x80, 0x80, 0x01}, 1)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		whole, errWhole := newFrameScanner().feed(data)
		split = min(max(split, 0), len(data))
		sc := newFrameScanner()
		a, errA := sc.feed(data[:split])
		var b [][]byte
		errB := errA
		if errA == nil {
			b, errB = sc.feed(data[split:])
		}
		parts := append(a, b...)
		if (errWhole == nil) != (errB == nil) || len(parts) != len(whole) {
			t.Fatalf("split at %d: %d frames, err %v; whole: %d frames, err %v", split, len(parts), errB, len(whole), errWhole)
		}
		for i := range whole {
			if !bytes.Equal(whole[i], parts[i]) {
				t.Fatalf("frame %d differs when split", i)
			}
			_, _ = parseSegmentHead(whole[i])
		}
	})
}
