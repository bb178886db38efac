package tracker

import (
	"bufio"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// fakeNode is a test client of the tracker protocol: it sends Hello,
// heartbeats reporting its current parent, and records Assignments.
type fakeNode struct {
	t           *testing.T
	h           host.Host
	id          string
	root        bool
	maxChildren uint32
	stream      string
	// WHEP advertisement: set before connect; sessions may change any time.
	whepURL      string
	whepCap      uint32
	whepSessions atomic.Uint32
	hbEvery      time.Duration // heartbeat interval; default 100 ms

	wmu    sync.Mutex // serialises writes to st
	mu     sync.Mutex
	parent string // from the last assignment
	ended  bool   // the reader saw the stream end
	got    []*treepb.Assignment
	st     network.Stream
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newHost(t *testing.T) host.Host {
	t.Helper()
	h, err := p2p.NewHost(p2p.HostParams{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func newFakeNode(t *testing.T, root bool, maxChildren uint32, stream string) *fakeNode {
	h := newHost(t)
	n := &fakeNode{t: t, h: h, id: h.ID().String(), root: root, maxChildren: maxChildren, stream: stream}
	t.Cleanup(n.disconnect)
	return n
}

// connect opens the tracker stream, sends Hello and starts heartbeats.
func (n *fakeNode) connect(tracker host.Host) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.h.Connect(ctx, peer.AddrInfo{ID: tracker.ID(), Addrs: tracker.Addrs()}); err != nil {
		n.t.Fatal(err)
	}
	st, err := n.h.NewStream(ctx, tracker.ID(), proto.TrackerProtocol)
	if err != nil {
		n.t.Fatal(err)
	}
	var addrs [][]byte
	for _, a := range n.h.Addrs() {
		addrs = append(addrs, a.Bytes())
	}
	hello := &treepb.Hello{Self: &treepb.Peer{Id: n.id, Addrs: addrs}, MaxChildren: n.maxChildren,
		UploadKbps: 10000, Streams: []string{n.stream}, Root: n.root,
		WhepUrl: n.whepURL, WhepCapacity: n.whepCap}
	if err := proto.WriteMessage(st, &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Hello{Hello: hello}}); err != nil {
		n.t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	n.mu.Lock()
	n.st, n.cancel, n.ended = st, stop, false
	n.mu.Unlock()
	n.heartbeat(st)
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		every := n.hbEvery
		if every == 0 {
			every = 100 * time.Millisecond
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-tick.C:
				if !n.heartbeat(st) {
					return
				}
			}
		}
	}()
	go func() {
		defer n.wg.Done()
		r := bufio.NewReader(st)
		for {
			var m treepb.TrackerMessage
			if err := proto.ReadMessage(r, &m, MaxMessageSize); err != nil {
				n.mu.Lock()
				n.ended = true
				n.mu.Unlock()
				return
			}
			if a := m.GetAssignment(); a != nil {
				n.mu.Lock()
				n.got = append(n.got, a)
				n.parent = a.GetParent().GetId()
				n.mu.Unlock()
			}
		}
	}()
}

func (n *fakeNode) heartbeat(st network.Stream) bool {
	hb := &treepb.Heartbeat{Streams: []*treepb.StreamState{{Stream: n.stream, Parent: n.currentParent()}},
		WhepSessions: n.whepSessions.Load()}
	n.wmu.Lock()
	defer n.wmu.Unlock()
	return proto.WriteMessage(st, &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Heartbeat{Heartbeat: hb}}) == nil
}

func (n *fakeNode) send(m *treepb.TrackerMessage) {
	n.mu.Lock()
	st := n.st
	n.mu.Unlock()
	n.wmu.Lock()
	defer n.wmu.Unlock()
	if err := proto.WriteMessage(st, m); err != nil {
		n.t.Fatal(err)
	}
}

// disconnect closes the tracker stream and stops the goroutines; the host
// stays up (its links to other nodes would survive a tracker restart).
func (n *fakeNode) disconnect() {
	n.mu.Lock()
	st, cancel := n.st, n.cancel
	n.st, n.cancel = nil, nil
	n.mu.Unlock()
	if st == nil {
		return
	}
	cancel()
	_ = st.Reset()
	n.wg.Wait()
}

// closedByTracker returns nil once the node's stream has ended (the
// reader saw the tracker's reset).
func (n *fakeNode) closedByTracker() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.ended {
		return fmt.Errorf("stream still open")
	}
	return nil
}

// silence stops heartbeats but keeps the stream open, as a hung node would.
func (n *fakeNode) silence() {
	n.mu.Lock()
	cancel := n.cancel
	n.mu.Unlock()
	cancel()
}

// kill closes the node's host, as a crash would.
func (n *fakeNode) kill() {
	_ = n.h.Close()
	n.disconnect()
}

func (n *fakeNode) currentParent() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.parent
}

func (n *fakeNode) assignments() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.got)
}

func (n *fakeNode) last() *treepb.Assignment {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.got) == 0 {
		return nil
	}
	return n.got[len(n.got)-1]
}

// eventually polls cond until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
		}
		<-tick.C
	}
}
