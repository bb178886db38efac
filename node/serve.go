package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

// Limits of the serving side of the tree protocol.
const (
	childQueueLen    = 64               // frames queued per child
	maxSubscribeSize = 1 << 10          // bytes of a Subscribe message
	subscribeTimeout = 10 * time.Second // to receive the Subscribe
	writeTimeout     = 30 * time.Second // one frame to a child
)

// child is one subscribed child stream.
type child struct {
	st network.Stream
	q  *childQueue
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
	c := &child{st: st, q: newChildQueue(childQueueLen)}
	backfill, ok := s.attach(c, sub.FromSequence, sub.LiveEdge, sub.Broadcast, n.p.MaxChildren)
	if !ok {
		log.Info("refused child: full", "stream", sub.Stream)
		_ = st.Reset()
		return
	}
	defer s.detach(c)
	log.Debug("child attached", "stream", sub.Stream, "from", sub.FromSequence, "live_edge", sub.LiveEdge, "backfill", len(backfill))

	// The child sends nothing after Subscribe; its EOF or reset ends the link.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		_, _ = io.Copy(io.Discard, st)
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
		_ = c.st.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := c.st.Write(b)
		return err
	}
	for _, b := range backfill {
		if err := write(b); err != nil {
			return err
		}
	}
	for {
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
		case <-gone:
			return io.EOF
		case <-n.ctx.Done():
			return ErrClosed
		}
	}
}
