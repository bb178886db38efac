package tracker

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// FuzzTreeOps drives the engine with arbitrary operation sequences; the
// invariants must hold after each one.
func FuzzTreeOps(f *testing.F) {
	f.Add([]byte{0, 2, 0, 3, 0, 1, 1, 0, 2, 1, 3, 0})
	f.Add([]byte{0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 4, 2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		tr := NewTree("s")
		if err := tr.SetRoot("r", 2); err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(ops) && i < 400; i += 2 {
			id := fmt.Sprint("n", ops[i+1]%16)
			switch ops[i] % 6 {
			case 0:
				_ = tr.Join(id, int(ops[i+1]%4), fmt.Sprint("n", ops[i+1]/16))
			case 1:
				tr.Leave(id)
			case 2:
				tr.Ban(id)
			case 3:
				tr.Rebalance()
			case 4:
				tr.SetRTT(id, map[string]uint32{fmt.Sprint("n", ops[i+1]/16): uint32(ops[i])})
			case 5:
				tr.Leave("r")
				_ = tr.SetRoot("r", int(ops[i+1]%3)+1)
			}
			if err := tr.Check(); err != nil {
				t.Fatalf("op %d: %v", i/2, err)
			}
			tr.Changes()
		}
	})
}

// FuzzHello decodes arbitrary bytes as a tracker message and validates it
// as a Hello: no panic, and accepted records respect the limits.
func FuzzHello(f *testing.F) {
	var buf bytes.Buffer
	_ = proto.WriteMessage(&buf, &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Hello{Hello: &treepb.Hello{
		Self: &treepb.Peer{Id: "me"}, Streams: []string{"a", "a", "b"}}}})
	f.Add(buf.Bytes())
	f.Add([]byte("\xff\xff\xff\xff\x0fgarbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m treepb.TrackerMessage
		if err := proto.ReadMessage(bufio.NewReader(bytes.NewReader(data)), &m, MaxMessageSize); err != nil {
			return
		}
		h := m.GetHello()
		p, err := validPeer(h.GetSelf(), "me")
		if err == nil && (p.GetId() != "me" || len(p.GetAddrs()) > maxAddrs) {
			t.Fatalf("accepted peer %v", p)
		}
		ss, err := validStreams(h.GetStreams())
		if err == nil && len(ss) > MaxStreamsPerNode {
			t.Fatalf("accepted %d streams", len(ss))
		}
	})
}
