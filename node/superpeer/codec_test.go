package superpeer

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestCommandRoundTrip(t *testing.T) {
	ids := make([]int64, maxArrayLen)
	for i := range ids {
		ids[i] = 1<<40 + int64(i)*3
	}
	for _, c := range []command{
		{typ: cmdAnnouncement},
		{typ: cmdAnnouncement, loaded: []int64{0, 1, 255, 256, 1 << 53}},
		{typ: cmdAnnouncement, loaded: ids, loading: []int64{7}},
		{typ: cmdRequest, id: 42, req: 999},
		{typ: cmdRequest, id: 42, req: 0, from: 65536},
		{typ: cmdData, id: 1<<53 - 1, req: 5, size: 5 << 20},
		{typ: cmdCompleted, id: 3, req: 4},
		{typ: cmdAbsent, id: -1, req: -300},
		{typ: cmdCancel, id: math.MaxInt64, req: math.MinInt64 + 1},
	} {
		body, err := encodeCommand(c)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		got, err := decodeCommand(body)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if !sameCommand(got, c) {
			t.Fatalf("round trip: got %+v, want %+v", got, c)
		}
	}
}

func TestEncodeRejectsOverlongArray(t *testing.T) {
	group := make([]int64, 256) // one group of 256 would encode a count of 0
	for i := range group {
		group[i] = int64(i)
	}
	if _, err := encodeCommand(command{typ: cmdAnnouncement, loaded: group}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"unknown type", []byte{6}},
		{"request without r", []byte{1, 'i', 0x01, 0x05}},
		{"data without s", []byte{2, 'i', 0x01, 0x05, 'r', 0x01, 0x01}},
		{"name without value", []byte{4, 'i', 0x01, 0x05, 'r'}},
		{"truncated int", []byte{4, 'i', 0x03, 0x05}},
		{"int over int64", []byte{4, 'i', 0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0, 'r', 0x01, 0x01}},
		{"bad item type", []byte{4, 'i', 0x31, 0x05, 'r', 0x01, 0x01}},
		{"id as array", []byte{4, 'i', 0x10, 0x00, 'r', 0x01, 0x01}},
		{"loaded as int", []byte{0, 'l', 0x01, 0x05}},
		{"id as string", []byte{4, 'i', 0x20, 0x01, 'x', 'r', 0x01, 0x01}},
		{"truncated array", []byte{0, 'l', 0x10, 0x01, 0x01, 0x03, 0x01}},
		{"truncated string", []byte{0, 'x', 0x20, 0x09, 'a'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := decodeCommand(tc.body); !errors.Is(err, ErrMalformed) {
				t.Fatalf("decoded %+v, err %v; want ErrMalformed", c, err)
			}
		})
	}
}

func TestDecodeToleratesWhatTSAccepts(t *testing.T) {
	// Fields in any order, unknown fields and strings are accepted, as the
	// TS decoder does.
	body := []byte{byte(cmdRequest), 'r', 0x01, 0x07, 'z', 0x20, 0x02, 'h', 'i', 'i', 0x02, 0x01, 0x00}
	c, err := decodeCommand(body)
	if err != nil {
		t.Fatal(err)
	}
	if c.typ != cmdRequest || c.id != 256 || c.req != 7 || c.from != 0 {
		t.Fatalf("got %+v", c)
	}
}

func TestFrameSplitAndJoin(t *testing.T) {
	body := bytes.Repeat([]byte{0xab}, 1000)
	body[0] = byte(cmdAnnouncement)
	for _, max := range []int{9, 16, 64, 100, 1000, 1008, 1009, 4096} {
		frames := frameCommand(body, max)
		var j joiner
		var got []byte
		for i, f := range frames {
			if !isCommandMessage(f) {
				t.Fatalf("max %d: frame %d not a command message", max, i)
			}
			var err error
			if got, err = j.add(f); err != nil {
				t.Fatalf("max %d: frame %d: %v", max, i, err)
			}
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("max %d: joined %d bytes, want %d", max, len(got), len(body))
		}
		if max >= 1008 && len(frames) != 1 {
			t.Fatalf("max %d: %d frames, want 1", max, len(frames))
		}
	}
}

func TestJoinerRejectsBrokenSequences(t *testing.T) {
	first := framed(frameStart, []byte{0}, frameDivEnd)
	cont := framed(frameDivStart, []byte{1}, frameEnd)
	for _, tc := range []struct {
		name string
		msgs [][]byte
	}{
		{"continuation first", [][]byte{cont}},
		{"new command while joining", [][]byte{first, first}},
		{"short frame", [][]byte{[]byte("cstrcen")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var j joiner
			var err error
			for _, m := range tc.msgs {
				if _, err = j.add(m); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			// The joiner starts over cleanly afterwards.
			if body, err := j.add(framed(frameStart, []byte{4}, frameEnd)); err != nil || !bytes.Equal(body, []byte{4}) {
				t.Fatalf("after reset: %v %v", body, err)
			}
		})
	}
}

func TestIsCommandMessage(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"cstr\x00cend", true}, {"dstrxdend", true}, {"cstrdend", true}, {"cstr", false},
		{"\x00\x00\x00\x18ftypmp42", false}, {"cstr...", false}, {"xcstr\x00cend", false},
	} {
		if got := isCommandMessage([]byte(tc.msg)); got != tc.want {
			t.Errorf("isCommandMessage(%q) = %v", tc.msg, got)
		}
	}
}
