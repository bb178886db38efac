package transcode

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/yutopp/go-amf0"
	flv "github.com/yutopp/go-flv"
	flvtag "github.com/yutopp/go-flv/tag"
)

func videoTag(ts uint32, ft flvtag.FrameType, pt flvtag.AVCPacketType, payload string) *flvtag.FlvTag {
	return &flvtag.FlvTag{TagType: flvtag.TagTypeVideo, Timestamp: ts, Data: &flvtag.VideoData{
		FrameType: ft, CodecID: flvtag.CodecIDAVC, AVCPacketType: pt, Data: bytes.NewReader([]byte(payload)),
	}}
}

func audioTag(ts uint32, pt flvtag.AACPacketType, payload string) *flvtag.FlvTag {
	return &flvtag.FlvTag{TagType: flvtag.TagTypeAudio, Timestamp: ts, Data: &flvtag.AudioData{
		SoundFormat: flvtag.SoundFormatAAC, SoundRate: flvtag.SoundRate44kHz, SoundSize: flvtag.SoundSize16Bit,
		SoundType: flvtag.SoundTypeStereo, AACPacketType: pt, Data: bytes.NewReader([]byte(payload)),
	}}
}

func metaTag() *flvtag.FlvTag {
	return &flvtag.FlvTag{TagType: flvtag.TagTypeScriptData, Data: &flvtag.ScriptData{
		Objects: map[string]amf0.ECMAArray{"onMetaData": {"width": 1280.0}},
	}}
}

// decoded is a tag read back from the FLV written to "ffmpeg".
type decoded struct {
	typ     flvtag.TagType
	ts      uint32
	what    string // "avcseq", "key", "inter", "aacseq", "aac", "meta"
	payload string
}

func decodeFLV(t *testing.T, b []byte) (flv.Flags, []decoded) {
	t.Helper()
	dec, err := flv.NewDecoder(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []decoded
	for {
		var tg flvtag.FlvTag
		if err := dec.Decode(&tg); err != nil {
			if errors.Is(err, io.EOF) {
				return dec.Header().Flags, out
			}
			t.Fatalf("decode: %v", err)
		}
		d := decoded{typ: tg.TagType, ts: tg.Timestamp}
		switch v := tg.Data.(type) {
		case *flvtag.VideoData:
			p, _ := io.ReadAll(v.Data)
			d.payload = string(p)
			switch {
			case v.AVCPacketType == flvtag.AVCPacketTypeSequenceHeader:
				d.what = "avcseq"
			case v.FrameType == flvtag.FrameTypeKeyFrame:
				d.what = "key"
			default:
				d.what = "inter"
			}
		case *flvtag.AudioData:
			p, _ := io.ReadAll(v.Data)
			d.payload = string(p)
			d.what = map[bool]string{true: "aacseq", false: "aac"}[v.AACPacketType == flvtag.AACPacketTypeSequenceHeader]
		case *flvtag.ScriptData:
			d.what = "meta"
		}
		out = append(out, d)
	}
}

func TestFLVFeed(t *testing.T) {
	type in struct {
		tag  *flvtag.FlvTag
		drop bool
	}
	tests := []struct {
		name     string
		hasAudio bool
		known    []*flvtag.FlvTag // headers remembered from an earlier run
		tags     []in
		want     []decoded
	}{
		{
			name:     "first run: headers wait for the keyframe",
			hasAudio: true,
			tags: []in{
				{metaTag(), false}, {videoTag(0, 1, 0, "SPS"), false}, {audioTag(0, 0, "ASC"), false},
				{audioTag(5, 1, "a0"), true}, {videoTag(33, 2, 1, "p-1"), true},
				{videoTag(40, 1, 1, "I0"), false}, {audioTag(45, 1, "a1"), false}, {videoTag(73, 2, 1, "p1"), false},
			},
			want: []decoded{
				{18, 40, "meta", ""}, {9, 40, "avcseq", "SPS"}, {8, 40, "aacseq", "ASC"},
				{9, 40, "key", "I0"}, {8, 45, "aac", "a1"}, {9, 73, "inter", "p1"},
			},
		},
		{
			name:     "restart mid-stream: replay, drop until keyframe",
			hasAudio: true,
			known:    []*flvtag.FlvTag{videoTag(0, 1, 0, "SPS"), audioTag(0, 0, "ASC")},
			tags: []in{
				{videoTag(5000, 2, 1, "p"), true}, {audioTag(5010, 1, "a"), true},
				{videoTag(6000, 1, 1, "I"), false}, {videoTag(6010, 1, 0, "SPS2"), false},
			},
			want: []decoded{
				{9, 6000, "avcseq", "SPS"}, {8, 6000, "aacseq", "ASC"}, {9, 6000, "key", "I"}, {9, 6010, "avcseq", "SPS2"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			feed, err := newFLVFeed(&out, tc.hasAudio)
			if err != nil {
				t.Fatal(err)
			}
			if err := feed.flush(); err != nil {
				t.Fatal(err)
			}
			var h streamHeaders
			for _, k := range tc.known {
				f, err := freeze(k)
				if err != nil {
					t.Fatal(err)
				}
				h.remember(f)
			}
			for i, x := range tc.tags {
				f, err := freeze(x.tag)
				if err != nil {
					t.Fatal(err)
				}
				isHeader := h.remember(f)
				dropped, err := feed.feed(f, h, isHeader)
				if err != nil || dropped != x.drop {
					t.Fatalf("tag %d: dropped=%v err=%v, want dropped=%v", i, dropped, err, x.drop)
				}
			}
			flags, got := decodeFLV(t, out.Bytes())
			wantFlags := flv.FlagsVideo
			if tc.hasAudio {
				wantFlags |= flv.FlagsAudio
			}
			if flags != wantFlags {
				t.Errorf("header flags %v, want %v", flags, wantFlags)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("tag %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestFreezeConsumesPayload(t *testing.T) {
	r := bytes.NewReader([]byte("payload"))
	tg := &flvtag.FlvTag{TagType: flvtag.TagTypeVideo, Data: &flvtag.VideoData{FrameType: 2, CodecID: 7, AVCPacketType: 1, Data: r}}
	f, err := freeze(tg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 0 || string(f.payload) != "payload" {
		t.Fatalf("payload %q, %d bytes left unread", f.payload, r.Len())
	}
	if _, err := freeze(&flvtag.FlvTag{TagType: 8, Data: "nonsense"}); !errors.Is(err, ErrBadParams) {
		t.Fatalf("freeze of bad data: %v, want ErrBadParams", err)
	}
}
