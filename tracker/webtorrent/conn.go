package webtorrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"

	"github.com/coder/websocket"
)

// conn is one client socket. The reader goroutine (the HTTP handler) owns
// bucket and strikes; qmu guards the outgoing queue; members belongs to
// the registry (guarded by registry.mu).
type conn struct {
	s       *Server
	ws      *websocket.Conn
	ctx     context.Context
	cancel  context.CancelFunc
	addr    netip.Addr
	network netip.Prefix
	relay   bool
	relayID string
	members map[binID]*member // info_hash -> this socket's member there

	bucket  tokenBucket
	strikes int

	qmu     sync.Mutex
	queue   [][]byte
	pending int  // queued or being written
	writing bool // a writer goroutine is running
	sealed  bool // no new messages; the writer finishes the queue
	closing bool // no more writes at all
	writers sync.WaitGroup
}

// serve reads and handles messages until the socket ends, then removes
// the connection from every swarm and waits for its writer.
func (c *conn) serve() {
	defer c.finish()
	for {
		data, err := c.read()
		if errors.Is(err, ErrMessageTooBig) {
			c.s.m.fail(err)
			c.s.p.Logger.Debug("closing socket: message too big", "addr", c.addr)
			c.closeWith(websocket.StatusMessageTooBig,
				fmt.Sprintf("message larger than %d bytes", c.s.p.MaxMessageBytes))
			return
		}
		if err != nil {
			return
		}
		// Handling runs on a short-lived goroutine: its deep stack (JSON
		// decoding, encoding) then goes away with it instead of staying
		// grown on this long-lived, mostly idle reader (about 5 KiB less
		// per connection). The reader waits, so nothing runs concurrently.
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.handle(data)
		}()
		<-done
		if c.strikes >= c.s.p.MaxStrikes {
			c.s.p.Logger.Info("closing abusive socket", "addr", c.addr, "strikes", c.strikes)
			c.closeWith(websocket.StatusPolicyViolation, "too many invalid or rate-limited messages")
			return
		}
	}
}

// read returns the next message, or ErrMessageTooBig, or the socket's
// error (also when nothing arrived for PeerTimeout).
func (c *conn) read() ([]byte, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.s.p.PeerTimeout)
	defer cancel()
	_, r, err := c.ws.Reader(ctx)
	if err != nil {
		return nil, err
	}
	limit := c.s.p.MaxMessageBytes
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, ErrMessageTooBig
	}
	return data, nil
}

// handle processes one message.
func (c *conn) handle(data []byte) {
	now := c.s.p.Clock()
	req, err := parseMessage(data, c.s.lim)
	if !c.relay && !c.bucket.allow(now) {
		c.reject(req, ErrRateLimited)
		return
	}
	if err != nil {
		c.reject(req, err)
		return
	}
	switch {
	case req.action == actionScrape:
		c.send(encodeScrapeReply(c.s.reg.scrape(req.hashes), c.s.p.AnnounceInterval))
		c.s.m.scrape()
	case req.isAnswer():
		to, err := c.s.reg.answer(c, req, now)
		if errors.Is(err, ErrUnknownPeer) {
			// The offerer left meanwhile; like bittorrent-tracker, say nothing.
			c.s.m.fail(err)
			break
		}
		if err != nil {
			c.reject(req, err)
			return
		}
		to.send(encodeAnswer(req.peerID, req.infoHash, req.answer, req.offerID))
		c.s.m.answer()
	default:
		res, err := c.s.reg.announce(c, req, now)
		if err != nil {
			c.reject(req, err)
			return
		}
		c.s.m.announce()
		// Offers first: once the announcer has its reply, they are queued.
		for _, t := range res.targets {
			t.c.send(encodeOffer(req.peerID, req.infoHash, t.o))
			c.s.m.offer()
		}
		c.send(encodeAnnounceReply(req.infoHash, c.s.p.AnnounceInterval, res.complete, res.incomplete))
	}
	c.strikes = 0
}

// reject answers a refused message; protocol errors and rate limiting
// count as strikes, capacity refusals do not.
func (c *conn) reject(req *request, err error) {
	c.s.m.fail(err)
	switch {
	case errors.Is(err, ErrSwarmFull), errors.Is(err, ErrTooManySwarms),
		errors.Is(err, ErrConnSwarmLimit), errors.Is(err, ErrNotInSwarm):
	default:
		c.strikes++
	}
	c.send(encodeFailure(req, err))
}

// send queues msg for the socket without blocking; when the queue is
// full the message is dropped and counted.
func (c *conn) send(msg []byte) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.closing || c.sealed {
		return
	}
	if c.pending >= c.s.p.SendQueueLen {
		c.s.m.drop()
		return
	}
	c.queue = append(c.queue, msg)
	c.pending++
	if !c.writing {
		c.writing = true
		c.writers.Add(1)
		go c.writeLoop()
	}
}

// writeLoop drains the queue and exits when it is empty, so an idle
// socket costs no goroutine. A write that fails or times out ends the
// connection.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	for {
		c.qmu.Lock()
		batch := c.queue
		c.queue = nil
		if len(batch) == 0 || c.closing {
			c.writing = false
			c.qmu.Unlock()
			return
		}
		c.qmu.Unlock()
		for _, msg := range batch {
			ctx, cancel := context.WithTimeout(c.ctx, c.s.p.WriteTimeout)
			err := c.ws.Write(ctx, websocket.MessageText, msg)
			cancel()
			c.qmu.Lock()
			c.pending--
			stop := c.closing || err != nil
			if err != nil {
				c.closing, c.writing, c.queue = true, false, nil
			}
			c.qmu.Unlock()
			if err != nil {
				c.cancel() // unblocks the reader, which cleans up
				return
			}
			if stop {
				break
			}
		}
	}
}

// closeWith lets the writer deliver what is queued (failure replies
// explaining the close, typically), then closes with a status and reason.
func (c *conn) closeWith(code websocket.StatusCode, reason string) {
	c.qmu.Lock()
	c.sealed = true
	c.qmu.Unlock()
	c.writers.Wait()
	_ = c.ws.Close(code, reason)
}

// finish runs once the reader is done.
func (c *conn) finish() {
	c.s.reg.dropConn(c)
	c.qmu.Lock()
	c.closing, c.queue = true, nil
	c.qmu.Unlock()
	c.cancel()
	c.writers.Wait()
	_ = c.ws.CloseNow()
	c.s.untrack(c)
	if c.s.connDone != nil {
		c.s.connDone()
	}
}
