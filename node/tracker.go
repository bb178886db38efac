package node

import (
	"bufio"
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// maxTrackerMessage bounds a message from the tracker.
const maxTrackerMessage = 1 << 20

// report is a bad peer to tell the tracker about.
type report struct {
	peer   peer.ID
	stream string
	reason string
}

// report queues a Report for the tracker; it is dropped when the queue is full.
func (n *Node) report(p peer.ID, stream, reason string) {
	select {
	case n.reports <- report{peer: p, stream: stream, reason: reason}:
	default:
	}
}

// runTracker keeps one tracker session up, failing over to the next tracker
// and backing off on errors. Links stay as they are while no tracker answers.
func (n *Node) runTracker(ctx context.Context) {
	backoff := minBackoff
	for i := 0; ctx.Err() == nil; i = (i + 1) % len(n.p.Trackers) {
		t := n.p.Trackers[i]
		start := time.Now()
		err := n.trackerSession(ctx, t)
		if ctx.Err() != nil {
			return
		}
		n.log.Info("tracker session ended", "tracker", t.ID.String(), "err", err)
		if time.Since(start) > 10*time.Second {
			backoff = minBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// trackerSession runs Hello, then heartbeats and reports, while reading
// assignments.
func (n *Node) trackerSession(ctx context.Context, t peer.AddrInfo) error {
	h := n.p.Host
	// The node paces its own retries; the swarm's dial backoff would
	// otherwise refuse a tracker that has just come back.
	dctx, cancel := context.WithTimeout(network.WithForceDirectDial(ctx, "canopy tracker"), dialTimeout)
	defer cancel()
	if len(t.Addrs) > 0 {
		h.Peerstore().AddAddrs(t.ID, t.Addrs, time.Hour)
	}
	st, err := h.NewStream(dctx, t.ID, proto.TrackerProtocol)
	if err != nil {
		return fmt.Errorf("open tracker stream: %w", err)
	}
	defer func() { _ = st.Reset() }()
	hello := &treepb.Hello{
		Self:         peerPB(h.ID(), h.Addrs()),
		MaxChildren:  uint32(max(n.p.MaxChildren, 0)),
		UploadKbps:   uint64(max(n.p.UploadKbps, 0)),
		Streams:      n.p.Streams,
		Root:         n.p.Root,
		WhepUrl:      n.p.WHEP.URL,
		WhepCapacity: uint32(max(n.p.WHEP.Capacity, 0)),
	}
	if err := n.sendTracker(st, &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Hello{Hello: hello}}); err != nil {
		return err
	}
	// A heartbeat straight away tells a freshly restarted tracker which
	// parents this node already has, so it can rebuild the tree as it was.
	if err := n.sendTracker(st, &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Heartbeat{Heartbeat: n.heartbeat()}}); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- n.readAssignments(st) }()
	tick := time.NewTicker(n.p.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = st.Reset()
			<-errc
			return ctx.Err()
		case err := <-errc:
			return err
		case r := <-n.reports:
			m := &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Report{Report: &treepb.Report{
				Peer: r.peer.String(), Stream: r.stream, Reason: r.reason,
			}}}
			if err := n.sendTracker(st, m); err != nil {
				_ = st.Reset()
				<-errc
				return err
			}
		case <-tick.C:
			n.pingCandidates(ctx)
			if err := n.sendTracker(st, &treepb.TrackerMessage{Msg: &treepb.TrackerMessage_Heartbeat{Heartbeat: n.heartbeat()}}); err != nil {
				_ = st.Reset()
				<-errc
				return err
			}
		}
	}
}

func (n *Node) sendTracker(st network.Stream, m *treepb.TrackerMessage) error {
	_ = st.SetWriteDeadline(time.Now().Add(dialTimeout))
	if err := proto.WriteMessage(st, m); err != nil {
		return fmt.Errorf("tracker write: %w", err)
	}
	return nil
}

func (n *Node) readAssignments(st network.Stream) error {
	r := bufio.NewReader(st)
	for {
		var m treepb.TrackerMessage
		if err := proto.ReadMessage(r, &m, maxTrackerMessage); err != nil {
			return err
		}
		a := m.GetAssignment()
		if a == nil {
			continue // nothing else is meant for a node; ignore for forward compatibility
		}
		if err := n.applyAssignment(a); err != nil {
			n.log.Info("bad assignment", "err", err)
		}
	}
}

// applyAssignment converts a tracker Assignment and applies it.
func (n *Node) applyAssignment(a *treepb.Assignment) error {
	if !proto.ValidName(a.Stream) {
		return fmt.Errorf("%w: assignment for %q", ErrProtocol, a.Stream)
	}
	var as assignment
	var err error
	if a.Parent != nil {
		if as.parent, err = addrInfoFromPB(a.Parent); err != nil {
			return err
		}
	}
	if a.Backup != nil {
		if as.backup, err = addrInfoFromPB(a.Backup); err != nil {
			return err
		}
	}
	for _, c := range a.Candidates {
		if ai, err := addrInfoFromPB(c); err == nil {
			as.candidates = append(as.candidates, ai)
		}
	}
	return n.assign(a.Stream, as)
}

// heartbeat builds the node's periodic state report.
func (n *Node) heartbeat() *treepb.Heartbeat {
	hb := &treepb.Heartbeat{}
	if f := n.p.WHEP.Sessions; f != nil {
		hb.WhepSessions = uint32(max(f(), 0))
	}
	seen := map[peer.ID]bool{}
	total := 0
	defer func() {
		// Load is approximated by children over the declared capacity.
		if n.p.MaxChildren > 0 {
			hb.Load = float32(total) / float32(n.p.MaxChildren)
		}
	}()
	for _, s := range n.streamList() {
		parent, last, children := s.state()
		total += children
		ss := &treepb.StreamState{Stream: s.name, LastSequence: last, Children: uint32(children)}
		if parent != "" {
			ss.Parent = parent.String()
		}
		hb.Streams = append(hb.Streams, ss)
		for _, c := range s.assignment().candidates {
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			if rtt := n.p.Host.Peerstore().LatencyEWMA(c.ID); rtt > 0 {
				hb.Rtts = append(hb.Rtts, &treepb.Rtt{Peer: c.ID.String(), Micros: uint32(min(rtt.Microseconds(), 1<<31))})
			}
		}
	}
	return hb
}

// pingCandidates measures RTTs to assigned candidates in the background;
// libp2p's ping records them in the peerstore, which heartbeat reads.
func (n *Node) pingCandidates(ctx context.Context) {
	seen := map[peer.ID]bool{}
	for _, s := range n.streamList() {
		for _, c := range s.assignment().candidates {
			if seen[c.ID] || c.ID == n.p.Host.ID() || !n.track() {
				continue
			}
			seen[c.ID] = true
			go func(c peer.AddrInfo) {
				defer n.wg.Done()
				pctx, cancel := context.WithTimeout(ctx, dialTimeout)
				defer cancel()
				n.p.Host.Peerstore().AddAddrs(c.ID, c.Addrs, time.Hour)
				select {
				case <-ping.Ping(pctx, n.p.Host, c.ID):
				case <-pctx.Done():
				}
			}(c)
		}
	}
}

func peerPB(id peer.ID, addrs []ma.Multiaddr) *treepb.Peer {
	p := &treepb.Peer{Id: id.String()}
	for _, a := range addrs {
		p.Addrs = append(p.Addrs, a.Bytes())
	}
	return p
}

func addrInfoFromPB(p *treepb.Peer) (peer.AddrInfo, error) {
	id, err := peer.Decode(p.Id)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("%w: %w", ErrBadPeer, err)
	}
	ai := peer.AddrInfo{ID: id}
	for _, b := range p.Addrs {
		a, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			continue
		}
		ai.Addrs = append(ai.Addrs, a)
	}
	return ai, nil
}
