package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// Limits of the serving side of the tree protocol.
const (
	childQueueLen    = 64               // frames queued per child
	maxSubscribeSize = 1 << 10          // bytes of a Subscribe message
	subscribeTimeout = 10 * time.Second // to receive the Subscribe
	writeTimeout     = 10 * time.Second // one frame to a child
	// stallEvict is how long a write to a child may block before a new
	// child may take its slot. A child cut off without a FIN or RST keeps
	// its slot until writes time out, while the tracker, which has stopped
	// hearing from it, already sends its replacement here.
	stallEvict = 3 * time.Second
	// ackInterval is how often a child sends Ack; a child not heard from
	// for childSilence is dropped.
	ackInterval  = time.Second
	childSilence = 4 * time.Second
	maxAckSize   = 64
)

// child is one subscribed child stream.
type child struct {
	st           network.Stream
	q            *childQueue
	peer         peer.ID
	writingSince atomic.Int64 // unix nanos when the current write began; 0 when idle
	heard        atomic.Int64 // unix nanos of the child's last message
}

// stalled reports whether a write to c has been blocked, or c has been
// silent, since before cut.
func (c *child) stalled(cut time.Time) bool {
	w := c.writingSince.Load()
	return (w != 0 && w < cut.UnixNano()) || c.heard.Load() < cut.UnixNano()
}

// parseSubscribe reads and checks a child's first message.
func parseSubscribe(r *bufio.Reader) (*treepb.Subscribe, error) {
	var m treepb.TreeMessage
	if err := proto.ReadMessage(r, &m, maxSubscribeSize); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSubscribe, err)
	}
	sub := m.GetSubscribe()
	if sub == nil {
		return nil, fmt.Errorf("%w: first message is not Subscribe", ErrBadSubscribe)
	}
	if !proto.ValidName(sub.Stream) || (sub.Broadcast != "" && !proto.ValidName(sub.Broadcast)) {
		return nil, fmt.Errorf("%w: stream %q broadcast %q", ErrBadSubscribe, sub.Stream, sub.Broadcast)
	}
	return sub, nil
}

// handleTree serves one child: Subscribe, back-fill, then live frames.
func (n *Node) handleTree(st network.Stream) {
	if !n.track() {
		_ = st.Reset()
		return
	}
	defer n.wg.Done()
	log := n.log.With("child", st.Conn().RemotePeer().String())
	_ = st.SetReadDeadline(time.Now().Add(subscribeTimeout))
	sub, err := parseSubscribe(bufio.NewReader(st))
	if err != nil {
		log.Info("refused child", "err", err)
		_ = st.Reset()
		return
	}
	_ = st.SetReadDeadline(time.Time{})
	s := n.stream(sub.Stream, n.p.Root)
	if s == nil {
		log.Info("refused child", "err", fmt.Errorf("%w: %q", ErrUnknownStream, sub.Stream))
		_ = st.Reset()
		return
	}
	c := &child{st: st, q: newChildQueue(childQueueLen), peer: st.Conn().RemotePeer()}
	c.heard.Store(n.p.Now().UnixNano())
	backfill, ok := s.attach(c, sub.FromSequence, sub.LiveEdge, sub.Broadcast, n.p.MaxChildren)
	if !ok {
		log.Info("refused child: full", "stream", sub.Stream)
		_ = st.Reset()
		return
	}
	defer s.detach(c)
	log.Debug("child attached", "stream", sub.Stream, "from", sub.FromSequence, "live_edge", sub.LiveEdge, "backfill", len(backfill))

	// After Subscribe the child sends only Acks; anything else, its EOF or
	// a reset ends the link.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		r := bufio.NewReader(st)
		for {
			var m treepb.TreeMessage
			if err := proto.ReadMessage(r, &m, maxAckSize); err != nil || m.GetAck() == nil {
				return
			}
			c.heard.Store(n.p.Now().UnixNano())
		}
	}()
	err = n.feed(s, c, backfill, gone)
	_ = st.Reset()
	<-gone
	if err != nil && !errors.Is(err, ErrClosed) {
		log.Debug("child detached", "stream", sub.Stream, "err", err)
	}
}

// feed writes the back-fill, then queued frames, until the child goes, a
// write fails, or the node closes.
func (n *Node) feed(s *stream, c *child, backfill [][]byte, gone <-chan struct{}) error {
	write := func(b []byte) error {
		now := n.p.Now()
		_ = c.st.SetWriteDeadline(now.Add(writeTimeout))
		c.writingSince.Store(now.UnixNano())
		k, err := c.st.Write(b)
		c.writingSince.Store(0)
		n.metrics.fwdBytes.Add(float64(k))
		return err
	}
	for _, b := range backfill {
		if err := write(b); err != nil {
			return err
		}
	}
	silence := time.NewTicker(ackInterval)
	defer silence.Stop()
	for {
		if c.heard.Load() < n.p.Now().Add(-childSilence).UnixNano() {
			return fmt.Errorf("%w: child silent for %v", ErrStalled, childSilence)
		}
		fs, skip, media, from, to, meta := c.q.next()
		if skip {
			if media {
				if err := write(skippedFrame(s.name, from, to)); err != nil {
					return err
				}
			}
			if meta {
				for _, b := range s.metaFrames() {
					if err := write(b); err != nil {
						return err
					}
				}
			}
			continue
		}
		for _, f := range fs {
			if err := write(f.b); err != nil {
				return err
			}
			n.metrics.forwarded.Inc()
		}
		if len(fs) > 0 {
			continue
		}
		select {
		case <-c.q.wake:
		case <-silence.C:
		case <-gone:
			return io.EOF
		case <-n.ctx.Done():
			return ErrClosed
		}
	}
}
