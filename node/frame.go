package node

import (
	"bytes"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// encode returns the length-delimited wire form of m.
func encode(m *treepb.TreeMessage) []byte {
	var b bytes.Buffer
	// Writing to a bytes.Buffer fails only when marshalling fails, which a
	// message built from validated fields does not.
	_ = proto.WriteMessage(&b, m)
	return b.Bytes()
}

func infoFrame(i StreamInfo) []byte {
	return encode(&treepb.TreeMessage{Msg: &treepb.TreeMessage_Info{Info: i.toPB()}})
}

func skippedFrame(stream string, from, to uint64) []byte {
	return encode(&treepb.TreeMessage{Msg: &treepb.TreeMessage_Skipped{Skipped: &treepb.Skipped{
		Stream: stream, FromSequence: from, ToSequence: to,
	}}})
}
