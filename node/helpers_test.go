package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

const testStream = "demo"

// origin signs synthetic segments like the real origin would.
type origin struct {
	pub       ed25519.PublicKey
	priv      ed25519.PrivateKey
	info      StreamInfo
	size      int
	base      time.Time
	rng       *rand.ChaCha8
	pool      []byte
	published map[string]map[uint64][]byte // rendition -> media seq -> data
}

func newOrigin(t *testing.T, renditions int, size int) *origin {
	t.Helper()
	seed := [32]byte{1}
	priv := ed25519.NewKeyFromSeed(seed[:])
	o := &origin{
		pub: priv.Public().(ed25519.PublicKey), priv: priv, size: size,
		base: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		rng:  rand.NewChaCha8([32]byte{2}), published: map[string]map[uint64][]byte{},
		info: StreamInfo{Stream: testStream, Broadcast: "b1", SegmentDuration: 2 * time.Second},
	}
	for i := range renditions {
		o.info.Renditions = append(o.info.Renditions, Rendition{
			Name: fmt.Sprintf("r%d", i), Width: 640 * (i + 1), Height: 360 * (i + 1),
			Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30, Bandwidth: 1_000_000 * (i + 1),
		})
	}
	return o
}

func (o *origin) bytes(n int) []byte {
	// Random bytes are slow under -race: take a window of a fixed random
	// pool at a fresh offset instead, which is as good for hashing.
	if len(o.pool) < 2*n {
		o.pool = make([]byte, 2*n)
		_, _ = o.rng.Read(o.pool)
	}
	off := int(o.rng.Uint64() % uint64(n))
	return append([]byte(nil), o.pool[off:off+n]...)
}

// initSeg returns a sealed init segment of a rendition.
func (o *origin) initSeg(rend string) (proto.Segment, []byte) {
	data := o.bytes(512)
	rec := proto.Seal(proto.Segment{
		Stream: testStream, Broadcast: o.info.Broadcast, Rendition: rend, Kind: proto.KindInit,
	}, data, o.priv)
	return rec, data
}

// mediaSeg returns a sealed media segment.
func (o *origin) mediaSeg(rend string, seq uint64) (proto.Segment, []byte) {
	data := o.bytes(o.size)
	rec := proto.Seal(proto.Segment{
		Stream: testStream, Broadcast: o.info.Broadcast, Rendition: rend, Kind: proto.KindMedia,
		Sequence: seq, Start: time.Duration(seq) * 2 * time.Second, Duration: 2 * time.Second,
		ProgramDateTime: o.base.Add(time.Duration(seq) * 2 * time.Second),
	}, data, o.priv)
	return rec, data
}

func (o *origin) publishInits(t *testing.T, root *Node) {
	t.Helper()
	for _, r := range o.info.Renditions {
		rec, data := o.initSeg(r.Name)
		if err := root.Publish(o.info, rec, data); err != nil {
			t.Fatalf("publish init: %v", err)
		}
	}
}

// publishColumn publishes media segment seq of every rendition.
func (o *origin) publishColumn(t *testing.T, root *Node, seq uint64) {
	t.Helper()
	for _, r := range o.info.Renditions {
		rec, data := o.mediaSeg(r.Name, seq)
		if err := root.Publish(o.info, rec, data); err != nil {
			t.Errorf("publish %s/%d: %v", r.Name, seq, err)
			return
		}
	}
}

func newTestHost(t *testing.T) host.Host {
	t.Helper()
	h, err := p2p.NewHost(p2p.HostParams{Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func newTestNode(t *testing.T, o *origin, root bool) *Node {
	t.Helper()
	return startNode(t, Params{OriginKey: o.pub, Streams: []string{testStream}, Root: root, MaxChildren: 8})
}

// startNode starts a node on a fresh host.
func startNode(t *testing.T, p Params) *Node {
	t.Helper()
	p.Host = newTestHost(t)
	n, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func addrOf(n *Node) peer.AddrInfo {
	return peer.AddrInfo{ID: n.p.Host.ID(), Addrs: n.p.Host.Addrs()}
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

func children(n *Node) int {
	s := n.stream(testStream, false)
	if s == nil {
		return 0
	}
	return s.numChildren()
}

// hasAll reports whether n holds media 0..last-1 and the init of every rendition.
func hasAll(n *Node, o *origin, last uint64) bool {
	for _, r := range o.info.Renditions {
		if len(n.Sequences(testStream, r.Name)) != int(last) {
			return false
		}
		if _, _, ok := n.Segment(testStream, r.Name, proto.KindInit, 0); !ok {
			return false
		}
	}
	return true
}

// sameAs checks that n holds byte-identical copies of the root's segments
// 0..last-1 of every rendition, with no gap, and their inits.
func sameAs(t *testing.T, name string, n, root *Node, o *origin, last uint64) {
	t.Helper()
	for _, r := range o.info.Renditions {
		seqs := n.Sequences(testStream, r.Name)
		if len(seqs) != int(last) {
			t.Errorf("%s %s: %d segments, want %d (%v)", name, r.Name, len(seqs), last, seqs)
			continue
		}
		for i, seq := range seqs {
			if seq != uint64(i) {
				t.Errorf("%s %s: gap: sequence %d at %d", name, r.Name, seq, i)
				break
			}
		}
		for _, k := range []struct {
			kind proto.SegmentKind
			seqs []uint64
		}{{proto.KindInit, []uint64{0}}, {proto.KindMedia, seqs}} {
			for _, seq := range k.seqs {
				want, wd, ok1 := root.Segment(testStream, r.Name, k.kind, seq)
				got, gd, ok2 := n.Segment(testStream, r.Name, k.kind, seq)
				if !ok1 || !ok2 || !bytes.Equal(wd, gd) || !bytes.Equal(want.Signature, got.Signature) {
					t.Errorf("%s %s %v %d: copy differs from the root's (have %v %v)", name, r.Name, k.kind, seq, ok1, ok2)
				}
				if err := got.VerifyData(o.pub, gd); ok2 && err != nil {
					t.Errorf("%s %s %v %d: %v", name, r.Name, k.kind, seq, err)
				}
			}
		}
	}
}

func counterValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Histogram.GetSampleSum()
}

// rawChild subscribes to parent at the live edge from a bare host and then
// neither reads nor sends Acks: a child that went away without a FIN.
func rawChild(t *testing.T, parent *Node) network.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h := newTestHost(t)
	if err := h.Connect(ctx, addrOf(parent)); err != nil {
		t.Fatal(err)
	}
	st, err := h.NewStream(ctx, parent.p.Host.ID(), proto.TreeProtocol)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Reset() })
	sub := &treepb.TreeMessage{Msg: &treepb.TreeMessage_Subscribe{Subscribe: &treepb.Subscribe{Stream: testStream, LiveEdge: true}}}
	if err := proto.WriteMessage(st, sub); err != nil {
		t.Fatal(err)
	}
	return st
}
