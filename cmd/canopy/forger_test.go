//go:build e2e

package main

import (
	"bufio"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/internal/config"
	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/internal/testsrc"
	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// forger is a relay that speaks the tracker and tree protocols correctly
// but flips a byte in every media segment it forwards.
type forger struct {
	h      host.Host
	stream string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	children []network.Stream
	parent   peer.ID
	forged   int
}

func startForger(t *testing.T, tr peer.AddrInfo, stream string) *forger {
	t.Helper()
	h, err := p2p.NewHost(p2p.HostParams{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &forger{h: h, stream: stream, ctx: ctx, cancel: cancel}
	h.SetStreamHandler(proto.TreeProtocol, func(st network.Stream) {
		var m treepb.TreeMessage
		if err := proto.ReadMessage(bufio.NewReader(st), &m, 1<<16); err != nil || m.GetSubscribe() == nil {
			_ = st.Reset()
			return
		}
		f.mu.Lock()
		f.children = append(f.children, st)
		f.mu.Unlock()
	})
	f.wg.Add(1)
	go f.trackerLoop(t, tr)
	t.Cleanup(f.close)
	return f
}

func (f *forger) close() {
	f.cancel()
	_ = f.h.Close()
	f.wg.Wait()
}

// trackerLoop joins the tracker with plenty of room for children and
// follows whatever parent it is given.
func (f *forger) trackerLoop(t *testing.T, tr peer.AddrInfo) {
	defer f.wg.Done()
	f.h.Peerstore().AddAddrs(tr.ID, tr.Addrs, time.Hour)
	st, err := f.h.NewStream(f.ctx, tr.ID, proto.TrackerProtocol)
	if err != nil {
		return
	}
	defer st.Reset()
	var addrs [][]byte
	for _, a := range f.h.Addrs() {
		addrs = append(addrs, a.Bytes())
	}
	hello := &treepb.Hello{Self: &treepb.Peer{Id: f.h.ID().String(), Addrs: addrs}, MaxChildren: 8, UploadKbps: 100_000, Streams: []string{f.stream}}
	if proto.WriteMessage(st, &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Hello{Hello: hello}}) != nil {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			f.mu.Lock()
			hb := &treepb.Heartbeat{Streams: []*treepb.StreamState{{Stream: f.stream, Parent: f.parent.String(), Children: uint32(len(f.children))}}}
			f.mu.Unlock()
			if proto.WriteMessage(st, &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Heartbeat{Heartbeat: hb}}) != nil {
				return
			}
			select {
			case <-f.ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	r := bufio.NewReader(st)
	for {
		var m treepb.TrackerMessage
		if proto.ReadMessage(r, &m, 1<<16) != nil {
			return
		}
		a := m.GetAssignment()
		if a == nil || a.GetParent() == nil {
			continue
		}
		id, err := peer.Decode(a.GetParent().GetId())
		if err != nil {
			continue
		}
		f.mu.Lock()
		same := id == f.parent
		f.parent = id
		f.mu.Unlock()
		if !same {
			f.wg.Add(1)
			go f.follow(a.GetParent())
		}
	}
}

// follow subscribes to the parent and forwards everything to the children,
// media segments with one byte flipped.
func (f *forger) follow(p *treepb.Peer) {
	defer f.wg.Done()
	id, _ := peer.Decode(p.GetId())
	info := peer.AddrInfo{ID: id}
	for _, b := range p.GetAddrs() {
		if a, err := multiaddrFromBytes(b); err == nil {
			info.Addrs = append(info.Addrs, a)
		}
	}
	f.h.Peerstore().AddAddrs(info.ID, info.Addrs, time.Hour)
	st, err := f.h.NewStream(f.ctx, info.ID, proto.TreeProtocol)
	if err != nil {
		return
	}
	defer st.Reset()
	sub := &treepb.TreeMessage{Msg: &treepb.TreeMessage_Subscribe{Subscribe: &treepb.Subscribe{Stream: f.stream, LiveEdge: true}}}
	if proto.WriteMessage(st, sub) != nil {
		return
	}
	// Keep the parent's slot with Acks, as an honest child does.
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-f.ctx.Done():
				return
			case <-tick.C:
				if proto.WriteMessage(st, &treepb.TreeMessage{Msg: &treepb.TreeMessage_Ack{Ack: &treepb.Ack{}}}) != nil {
					return
				}
			}
		}
	}()
	r := bufio.NewReader(st)
	for f.ctx.Err() == nil {
		var m treepb.TreeMessage
		if proto.ReadMessage(r, &m, 0) != nil {
			return
		}
		if seg := m.GetSegment(); seg != nil && seg.GetRecord().GetKind() == uint32(proto.KindMedia) && len(seg.Data) > 100 {
			seg.Data[100] ^= 0xff
			f.mu.Lock()
			f.forged++
			f.mu.Unlock()
		}
		f.mu.Lock()
		kids := append([]network.Stream(nil), f.children...)
		f.mu.Unlock()
		for _, c := range kids {
			_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
			_ = proto.WriteMessage(c, &m)
		}
	}
}

// TestForgingRelayIsRoutedAround is the relay tree's acceptance point 4: a
// relay that forwards corrupted segments is reported by its children, which
// reject what it sends and are re-parented away from it.
func TestForgingRelayIsRoutedAround(t *testing.T) {
	e := &treeEnv{t: t, log: quietLogger(t), cfg: config.Default()}
	e.cfg.DataDir = t.TempDir()
	e.cfg.Origin.HTTP, e.cfg.Origin.RTMP = "127.0.0.1:0", "127.0.0.1:0"
	e.cfg.Origin.P2P = config.P2P{Listen: loopbackP2P()}
	e.cfg.Origin.RelayChildren = 2
	e.cfg.Origin.Transcode.Preset = "ultrafast"
	e.cfg.Origin.Streams = []config.Stream{{ID: treeStream, Key: "tree-secret-key"}}
	e.trackers = []*testTracker{e.startTracker("", nil)}
	t.Cleanup(e.trackers[0].stop)
	st, err := startOriginStack(context.Background(), e.cfg, e.trackerInfos(), nil, nil, e.log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.key = st.o.PublicKey()
	tr := e.trackers[0].tr

	// The forger takes one of the origin's two slots; one honest node with
	// room for a single child takes the other; three more must go below.
	f := startForger(t, e.trackers[0].info, treeStream)
	waitUntil(t, 10*time.Second, "forger attached", func() bool {
		ns, ok := tr.Snapshot(treeStream).Node(f.h.ID().String())
		return ok && ns.Parent != ""
	})
	e.addNode(1)
	for range 3 {
		e.addNode(2)
	}
	t.Cleanup(func() {
		for _, tn := range e.alive() {
			tn.kill()
		}
	})
	var underForger []string
	waitUntil(t, 10*time.Second, "honest nodes attached, some below the forger", func() bool {
		s := tr.Snapshot(treeStream)
		underForger = underForger[:0]
		for _, ns := range s.Nodes {
			if ns.Parent == f.h.ID().String() {
				underForger = append(underForger, ns.ID)
			}
		}
		return attached(s) == 5 && len(underForger) > 0
	})
	t.Logf("%d honest nodes start below the forger", len(underForger))

	pub, err := testsrc.Start(context.Background(), testsrc.Params{URL: "rtmp://" + st.o.RTMPAddr() + "/live/tree-secret-key",
		Width: 426, Height: 240, FPS: 30, Realtime: true, Bitrate: "300k"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })

	waitUntil(t, 30*time.Second, "forger banned and childless, honest nodes receiving", func() bool {
		ns, ok := tr.Snapshot(treeStream).Node(f.h.ID().String())
		if !ok || !ns.Banned || ns.Children != 0 {
			return false
		}
		for _, tn := range e.alive() {
			if tn.n.Parent(treeStream) == f.h.ID() {
				return false
			}
			if s, ok := newest(tn.n, "144p"); !ok || s < 2 {
				return false
			}
		}
		return true
	})
	f.mu.Lock()
	forged := f.forged
	f.mu.Unlock()
	if forged == 0 {
		t.Fatal("the forger never forwarded a segment; the test proved nothing")
	}
	// Nothing forged was cached anywhere: every cached segment verifies.
	for _, tn := range e.alive() {
		for _, seq := range tn.n.Sequences(treeStream, "144p") {
			rec, data, ok := tn.n.Segment(treeStream, "144p", proto.KindMedia, seq)
			if !ok || rec.VerifyData(e.key, data) != nil {
				t.Errorf("node %s holds a bad segment %d", tn.h.ID(), seq)
			}
		}
	}
	// Banned means reported: the tracker bans only on a child's report.
	// Every node that started below the forger now has another parent
	// (checked above) and kept its cache clean (checked here).
	t.Logf("forger forwarded %d forged segments; banned with no children", forged)
}

func multiaddrFromBytes(b []byte) (multiaddr.Multiaddr, error) { return multiaddr.NewMultiaddrBytes(b) }
