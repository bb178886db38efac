package node

import (
	"bufio"
	"bytes"
	"testing"

	gproto "google.golang.org/protobuf/proto"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// FuzzParseSubscribe feeds arbitrary bytes to the parent's Subscribe parser.
func FuzzParseSubscribe(f *testing.F) {
	for _, s := range []*treepb.Subscribe{
		{Stream: "demo", FromSequence: 3, Broadcast: "b1"}, {Stream: "x", LiveEdge: true},
	} {
		var b bytes.Buffer
		_ = proto.WriteMessage(&b, &treepb.TreeMessage{Msg: &treepb.TreeMessage_Subscribe{Subscribe: s}})
		f.Add(b.Bytes())
	}
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, in []byte) {
		sub, err := parseSubscribe(bufio.NewReader(bytes.NewReader(in)))
		if err != nil {
			return
		}
		if !proto.ValidName(sub.Stream) || (sub.Broadcast != "" && !proto.ValidName(sub.Broadcast)) {
			t.Fatalf("accepted %+v", sub)
		}
	})
}

// FuzzInfoFromPB checks that any StreamInfo the parser accepts is valid and
// survives a round trip.
func FuzzInfoFromPB(f *testing.F) {
	o := StreamInfo{Stream: "demo", Broadcast: "b", Renditions: []Rendition{{Name: "r0", Width: 640, Height: 360, Bandwidth: 1000, FrameRate: 30}}}
	b, _ := gproto.Marshal(o.toPB())
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		var pb treepb.StreamInfo
		if gproto.Unmarshal(in, &pb) != nil {
			return
		}
		info, err := infoFromPB(&pb)
		if err != nil {
			return
		}
		if err := info.Validate(); err != nil {
			t.Fatal(err)
		}
		back, err := infoFromPB(info.toPB())
		if err != nil || !back.equal(info) {
			t.Fatalf("round trip: %v %+v vs %+v", err, back, info)
		}
	})
}
