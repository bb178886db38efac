package transcode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// testdata/av.mp4 was made with ffmpeg 5.1 (64x36 testsrc2 at 10 fps, GOP 10,
// 3 s, x264 ultrafast, hence Constrained Baseline level 1b: avc1.42d00b; AAC-LC mono) and the movflags BuildArgs uses: ftyp moov (moof mdat)×3 mfra.
func readTestMP4(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/av.mp4")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// topBoxes splits a byte slice into its top-level boxes (32-bit sizes only).
func topBoxes(t testing.TB, b []byte) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{}
	for len(b) >= 8 {
		n := int(binary.BigEndian.Uint32(b))
		out[string(b[4:8])] = append(out[string(b[4:8])], b[:n])
		b = b[n:]
	}
	return out
}

func box(typ string, body []byte) []byte {
	b := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint32(b, uint32(8+len(body)))
	copy(b[4:], typ)
	return append(b, body...)
}

func largeBox(typ string, body []byte) []byte {
	b := make([]byte, 16, 16+len(body))
	binary.BigEndian.PutUint32(b, 1)
	copy(b[4:], typ)
	binary.BigEndian.PutUint64(b[8:], uint64(16+len(body)))
	return append(b, body...)
}

func splitAll(r io.Reader) ([]Segment, error) {
	s := NewSplitter(r)
	var out []Segment
	for {
		seg, err := s.Next()
		if err != nil {
			return out, err
		}
		out = append(out, seg)
	}
}

func TestSplitterRealOutput(t *testing.T) {
	data := readTestMP4(t)
	segs, err := splitAll(bytes.NewReader(data))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("end error = %v, want io.EOF", err)
	}
	if len(segs) != 4 {
		t.Fatalf("got %d segments, want init + 3", len(segs))
	}
	init := segs[0]
	if !init.Init || init.Info.Codecs != "avc1.42d00b,mp4a.40.2" || init.Info.Width != 64 || init.Info.Height != 36 {
		t.Fatalf("init = %+v", init.Info)
	}
	boxes := topBoxes(t, data)
	if want := append(append([]byte{}, boxes["ftyp"][0]...), boxes["moov"][0]...); !bytes.Equal(init.Data, want) {
		t.Fatal("init data is not ftyp+moov")
	}
	total := len(init.Data)
	for i, seg := range segs[1:] {
		if seg.Init {
			t.Fatalf("fragment %d marked init", i)
		}
		if seg.Start != time.Duration(i)*time.Second || seg.Duration != time.Second {
			t.Errorf("fragment %d: start %v duration %v, want %v and 1s", i, seg.Start, seg.Duration, time.Duration(i)*time.Second)
		}
		want := append(append([]byte{}, boxes["moof"][i]...), boxes["mdat"][i]...)
		if !bytes.Equal(seg.Data, want) {
			t.Errorf("fragment %d data is not moof+mdat", i)
		}
		total += len(seg.Data)
	}
	if mfra := len(boxes["mfra"][0]); total+mfra != len(data) {
		t.Fatalf("segments cover %d bytes + mfra %d, file has %d", total, mfra, len(data))
	}
}

func TestSplitterFraming(t *testing.T) {
	data := readTestMP4(t)
	b := topBoxes(t, data)
	ftyp, moov, moof, mdat := b["ftyp"][0], b["moov"][0], b["moof"][0], b["mdat"][0]
	body := func(x []byte) []byte { return x[8:] }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	styp := box("styp", []byte("msdh\x00\x00\x00\x00msdh"))
	prft := box("prft", make([]byte, 20))
	huge := []byte{0x04, 0x00, 0x00, 0x01, 'm', 'd', 'a', 't'} // 64 MiB + 1
	tests := []struct {
		name      string
		in        []byte
		wantSegs  int
		wantErr   error
		checkLast func(Segment) bool
	}{
		{"64-bit largesize boxes", cat(largeBox("ftyp", body(ftyp)), moov, largeBox("moof", body(moof)), largeBox("mdat", body(mdat))), 2, io.EOF,
			func(s Segment) bool { return s.Duration == time.Second }},
		{"free and mfra skipped", cat(ftyp, box("free", nil), moov, box("skip", []byte{1, 2}), moof, mdat, box("mfra", make([]byte, 30))), 2, io.EOF,
			func(s Segment) bool { return len(s.Data) == len(moof)+len(mdat) }},
		{"styp and prft belong to the fragment", cat(ftyp, moov, styp, prft, moof, mdat), 2, io.EOF,
			func(s Segment) bool { return bytes.HasPrefix(s.Data, cat(styp, prft, moof)) }},
		{"moov without ftyp", cat(moov, moof, mdat), 2, io.EOF, nil},
		{"size smaller than header", cat(ftyp, []byte{0, 0, 0, 4, 'f', 'r', 'e', 'e'}), 0, ErrBoxSize, nil},
		{"largesize smaller than header", cat(ftyp, []byte{0, 0, 0, 1, 'f', 'r', 'e', 'e', 0, 0, 0, 0, 0, 0, 0, 15}), 0, ErrBoxSize, nil},
		{"size zero", []byte{0, 0, 0, 0, 'm', 'd', 'a', 't'}, 0, ErrBoxSize, nil},
		{"absurd size", cat(ftyp, moov, moof, huge), 1, ErrBoxSize, nil},
		{"truncated in a box", cat(ftyp, moov, moof, mdat[:100]), 1, io.ErrUnexpectedEOF, nil},
		{"truncated in a header", cat(ftyp, moov, moof[:5]), 1, io.ErrUnexpectedEOF, nil},
		{"stream ends between moof and mdat", cat(ftyp, moov, moof), 1, io.ErrUnexpectedEOF, nil},
		{"moof before moov", cat(moof, mdat), 0, ErrBoxOrder, nil},
		{"mdat without moof", cat(ftyp, moov, mdat), 1, ErrBoxOrder, nil},
		{"two moofs", cat(ftyp, moov, moof, moof), 1, ErrBoxOrder, nil},
		{"garbage moov", cat(ftyp, box("moov", []byte("not a movie box at all"))), 0, ErrMP4, nil},
		{"empty input", nil, 0, io.EOF, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			segs, err := splitAll(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if len(segs) != tc.wantSegs {
				t.Fatalf("got %d segments, want %d", len(segs), tc.wantSegs)
			}
			if tc.checkLast != nil && !tc.checkLast(segs[len(segs)-1]) {
				t.Fatalf("last segment not as expected: %d bytes, start %v, duration %v",
					len(segs[len(segs)-1].Data), segs[len(segs)-1].Start, segs[len(segs)-1].Duration)
			}
		})
	}
}

// oneByteReader returns one byte per Read, as a slow pipe may.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestSplitterShortReads(t *testing.T) {
	segs, err := splitAll(oneByteReader{bytes.NewReader(readTestMP4(t))})
	if !errors.Is(err, io.EOF) || len(segs) != 4 {
		t.Fatalf("got %d segments, err %v; want 4, EOF", len(segs), err)
	}
}

func FuzzSplitter(f *testing.F) {
	data := readTestMP4(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(largeBox("ftyp", []byte("isom")))
	f.Add([]byte{0, 0, 0, 1, 'm', 'o', 'o', 'f', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	b := topBoxes(f, data)
	f.Add(bytes.Join([][]byte{b["moov"][0], b["moof"][1], b["mdat"][1]}, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := NewSplitter(bytes.NewReader(in))
		for i := 0; i < 1000; i++ {
			seg, err := s.Next()
			if err != nil {
				if strings.Contains(err.Error(), "panic") {
					t.Fatalf("decoder panicked: %v", err)
				}
				return
			}
			if len(seg.Data) < 16 || seg.Duration < 0 || seg.Start < 0 {
				t.Fatalf("implausible segment: %d bytes, start %v, duration %v", len(seg.Data), seg.Start, seg.Duration)
			}
		}
	})
}
