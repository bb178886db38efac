package proto

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/canopylive/canopy/proto/treepb"
)

func TestWireRoundTrip(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	data := []byte("segment bytes")
	rec := Seal(Segment{Stream: "s", Broadcast: "b", Rendition: "720p", Kind: KindMedia, Sequence: 42, Discontinuity: 1,
		Start: 84 * time.Second, Duration: 2 * time.Second, ProgramDateTime: time.Date(2026, 11, 27, 1, 2, 3, 4e6, time.UTC)}, data, key)
	var buf bytes.Buffer
	msg := &treepb.TreeMessage{Msg: &treepb.TreeMessage_Segment{Segment: &treepb.Segment{Record: rec.ToPB(), Data: data}}}
	if err := WriteMessage(&buf, msg); err != nil {
		t.Fatal(err)
	}
	var got treepb.TreeMessage
	if err := ReadMessage(bufio.NewReader(&buf), &got, 0); err != nil {
		t.Fatal(err)
	}
	back, err := SegmentFromPB(got.GetSegment().GetRecord())
	if err != nil {
		t.Fatal(err)
	}
	if err := back.VerifyData(key.Public().(ed25519.PublicKey), got.GetSegment().GetData()); err != nil {
		t.Fatalf("record changed on the wire: %v", err)
	}
	init := Seal(Segment{Stream: "s", Broadcast: "b", Rendition: "720p", Kind: KindInit, Sequence: 1, Discontinuity: 1}, data, key)
	back, err = SegmentFromPB(init.ToPB())
	if err != nil || back.Verify(key.Public().(ed25519.PublicKey)) != nil || !back.ProgramDateTime.IsZero() {
		t.Fatalf("init record round trip: %v %+v", err, back)
	}
}

func TestWireRejects(t *testing.T) {
	if _, err := SegmentFromPB(nil); !errors.Is(err, ErrBadMessage) {
		t.Errorf("nil record: %v", err)
	}
	if _, err := SegmentFromPB(&treepb.SegmentRecord{Stream: "s", Sha256: []byte{1}}); !errors.Is(err, ErrBadMessage) {
		t.Errorf("short hash: %v", err)
	}
	if _, err := SegmentFromPB(&treepb.SegmentRecord{Stream: "../x", Broadcast: "b", Rendition: "r", Kind: 2, Sha256: make([]byte, 32)}); !errors.Is(err, ErrBadMessage) {
		t.Errorf("bad name: %v", err)
	}
	// A length prefix over the limit is refused without reading the body.
	var buf bytes.Buffer
	big := &treepb.TreeMessage{Msg: &treepb.TreeMessage_Segment{Segment: &treepb.Segment{Data: make([]byte, 2048)}}}
	if err := WriteMessage(&buf, big); err != nil {
		t.Fatal(err)
	}
	var m treepb.TreeMessage
	if err := ReadMessage(bufio.NewReader(&buf), &m, 1024); !errors.Is(err, ErrBadMessage) {
		t.Errorf("oversized message: %v", err)
	}
}

// TestReadMessageBlamesOnlyBadBytes: a reader failing (a reset stream) or
// ending mid-message is an I/O error, not a malformed message.
func TestReadMessageBlamesOnlyBadBytes(t *testing.T) {
	var buf bytes.Buffer
	_ = WriteMessage(&buf, &treepb.TreeMessage{Msg: &treepb.TreeMessage_Subscribe{Subscribe: &treepb.Subscribe{Stream: "s"}}})
	whole := buf.Bytes()
	reset := errors.New("stream reset")
	for _, tc := range []struct {
		name    string
		r       io.Reader
		bad     bool
		wantErr error
	}{
		{"clean EOF", bytes.NewReader(nil), false, io.EOF},
		{"cut short", bytes.NewReader(whole[:len(whole)-2]), false, io.ErrUnexpectedEOF},
		{"reset", io.MultiReader(bytes.NewReader(whole[:3]), iotestErr{reset}), false, reset},
		{"garbage", bytes.NewReader([]byte{5, 0xff, 0xff, 0xff, 0xff, 0xff}), true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m treepb.TreeMessage
			err := ReadMessage(bufio.NewReader(tc.r), &m, 0)
			if errors.Is(err, ErrBadMessage) != tc.bad {
				t.Fatalf("err = %v; malformed = %v, want %v", err, errors.Is(err, ErrBadMessage), tc.bad)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// FuzzTreeMessage decodes arbitrary bytes as tree and tracker messages and
// converts any record found: never a panic, and a record that converts
// must survive a round trip.
func FuzzTreeMessage(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteMessage(&buf, &treepb.TreeMessage{Msg: &treepb.TreeMessage_Subscribe{Subscribe: &treepb.Subscribe{Stream: "s", FromSequence: 3}}})
	f.Add(buf.Bytes())
	buf.Reset()
	_ = WriteMessage(&buf, &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Hello{Hello: &treepb.Hello{MaxChildren: 4}}})
	f.Add(buf.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var tm treepb.TreeMessage
		if err := ReadMessage(bufio.NewReader(bytes.NewReader(b)), &tm, 1<<20); err == nil {
			if rec, err := SegmentFromPB(tm.GetSegment().GetRecord()); err == nil {
				again, err := SegmentFromPB(rec.ToPB())
				if err != nil || string(again.SigningBytes()) != string(rec.SigningBytes()) {
					t.Fatalf("round trip changed the record: %v", err)
				}
			}
		}
		var km treepb.TrackerMessage
		_ = ReadMessage(bufio.NewReader(bytes.NewReader(b)), &km, 1<<20)
	})
}
