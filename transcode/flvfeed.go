package transcode

import (
	"bytes"
	"fmt"
	"io"
	"maps"

	flv "github.com/yutopp/go-flv"
	flvtag "github.com/yutopp/go-flv/tag"
)

// frozenTag is an FLV tag whose payload has been read into memory, so that
// it can be remembered (sequence headers) and encoded more than once.
type frozenTag struct {
	typ      flvtag.TagType
	ts       uint32
	streamID uint32
	audio    flvtag.AudioData // Data unused; payload holds the bytes
	video    flvtag.VideoData
	script   *flvtag.ScriptData
	payload  []byte
}

// freeze reads the tag's payload. It always consumes the payload reader, so
// the caller's stream stays in step even when the tag is then dropped.
func freeze(t *flvtag.FlvTag) (*frozenTag, error) {
	f := &frozenTag{typ: t.TagType, ts: t.Timestamp, streamID: t.StreamID}
	var r io.Reader
	switch d := t.Data.(type) {
	case *flvtag.AudioData:
		if d == nil {
			return nil, fmt.Errorf("%w: nil audio data", ErrBadParams)
		}
		f.audio, r = *d, d.Data
		f.audio.Data = nil
	case *flvtag.VideoData:
		if d == nil {
			return nil, fmt.Errorf("%w: nil video data", ErrBadParams)
		}
		f.video, r = *d, d.Data
		f.video.Data = nil
	case *flvtag.ScriptData:
		if d == nil {
			return nil, fmt.Errorf("%w: nil script data", ErrBadParams)
		}
		f.script = &flvtag.ScriptData{Objects: maps.Clone(d.Objects)}
	default:
		return nil, fmt.Errorf("%w: tag type %d with data %T", ErrBadParams, t.TagType, t.Data)
	}
	if r != nil {
		p, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("transcode: reading tag payload: %w", err)
		}
		f.payload = p
	}
	return f, nil
}

func (f *frozenTag) isVideo() bool { return f.typ == flvtag.TagTypeVideo }
func (f *frozenTag) isAudio() bool { return f.typ == flvtag.TagTypeAudio }

func (f *frozenTag) isAVCSeqHeader() bool {
	return f.isVideo() && f.video.CodecID == flvtag.CodecIDAVC && f.video.AVCPacketType == flvtag.AVCPacketTypeSequenceHeader
}

func (f *frozenTag) isAACSeqHeader() bool {
	return f.isAudio() && f.audio.SoundFormat == flvtag.SoundFormatAAC && f.audio.AACPacketType == flvtag.AACPacketTypeSequenceHeader
}

func (f *frozenTag) isMetadata() bool {
	if f.typ != flvtag.TagTypeScriptData || f.script == nil {
		return false
	}
	_, a := f.script.Objects["onMetaData"]
	_, b := f.script.Objects["@setDataFrame"]
	return a || b
}

// isKeyframe reports a video keyframe carrying picture data (not a sequence header).
func (f *frozenTag) isKeyframe() bool {
	return f.isVideo() && f.video.FrameType == flvtag.FrameTypeKeyFrame &&
		(f.video.CodecID != flvtag.CodecIDAVC || f.video.AVCPacketType == flvtag.AVCPacketTypeNALU)
}

// tag returns a go-flv tag for encoding, with timestamp ts.
func (f *frozenTag) tag(ts uint32) *flvtag.FlvTag {
	t := &flvtag.FlvTag{TagType: f.typ, Timestamp: ts, StreamID: f.streamID}
	switch f.typ {
	case flvtag.TagTypeAudio:
		a := f.audio
		a.Data = bytes.NewReader(f.payload)
		t.Data = &a
	case flvtag.TagTypeVideo:
		v := f.video
		v.Data = bytes.NewReader(f.payload)
		t.Data = &v
	default:
		t.Data = f.script
	}
	return t
}

// streamHeaders are the latest sequence headers and metadata seen, replayed
// at the start of every ffmpeg run.
type streamHeaders struct {
	meta, avc, aac *frozenTag
}

// remember updates the headers with f; it reports whether f is a header.
func (h *streamHeaders) remember(f *frozenTag) bool {
	switch {
	case f.isAVCSeqHeader():
		h.avc = f
	case f.isAACSeqHeader():
		h.aac = f
	case f.isMetadata():
		h.meta = f
	default:
		return false
	}
	return true
}

// flvFeed encodes the FLV stream of one ffmpeg run. It is not safe for
// concurrent use; the run serialises calls.
type flvFeed struct {
	w     io.Writer
	buf   bytes.Buffer
	enc   *flv.Encoder
	keyed bool // the first keyframe (and the header replay) has been written
}

// newFLVFeed prepares the FLV header (audio flag from hasAudio); flush
// writes it.
func newFLVFeed(w io.Writer, hasAudio bool) (*flvFeed, error) {
	f := &flvFeed{w: w}
	flags := flv.FlagsVideo
	if hasAudio {
		flags |= flv.FlagsAudio
	}
	enc, err := flv.NewEncoder(&f.buf, flags)
	if err != nil {
		return nil, fmt.Errorf("transcode: FLV header: %w", err)
	}
	f.enc = enc
	return f, nil
}

// flush writes buffered bytes to the pipe.
func (f *flvFeed) flush() error {
	if f.buf.Len() == 0 {
		return nil
	}
	_, err := f.w.Write(f.buf.Bytes())
	f.buf.Reset()
	return err
}

// feed writes one tag, starting the run at the first video keyframe: until
// then tags are dropped (dropped=true), except that headers are only
// remembered; at the keyframe, metadata and sequence headers are replayed
// with the keyframe's timestamp. Headers arriving later pass through.
func (f *flvFeed) feed(t *frozenTag, h streamHeaders, isHeader bool) (dropped bool, err error) {
	if !f.keyed {
		if isHeader {
			return false, nil
		}
		if !t.isKeyframe() {
			return true, nil
		}
		for _, hd := range []*frozenTag{h.meta, h.avc, h.aac} {
			if hd == nil {
				continue
			}
			if err := f.enc.Encode(hd.tag(t.ts)); err != nil {
				return false, fmt.Errorf("transcode: encoding FLV: %w", err)
			}
		}
		f.keyed = true
	}
	if err := f.enc.Encode(t.tag(t.ts)); err != nil {
		return false, fmt.Errorf("transcode: encoding FLV: %w", err)
	}
	return false, f.flush()
}
