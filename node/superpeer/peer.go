package superpeer

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// peerConn is the super-peer's connection to one browser in one swarm.
type peerConn struct {
	s  *SuperPeer
	sw *swarm

	// Guarded by SuperPeer.mu.
	remote     string // browser peer id once registered
	offerID    string // own offer awaiting an answer
	registered bool   // counted against MaxPeers, in sw.conns
	counted    bool   // counted in SuperPeer.open

	mu     sync.Mutex
	pc     *webrtc.PeerConnection
	dc     *webrtc.DataChannel
	isOpen bool
	closed bool
	timer  *time.Timer
	annDue bool    // an announcement is waiting to be sent
	up     *upload // the request being served (the newest one wins)

	kick chan struct{} // wakes the writer
	low  chan struct{} // bufferedAmount fell to the low-water mark
	done chan struct{} // closed by close

	join joiner // used by the data channel's message callback only
}

// upload is one segment request being answered.
type upload struct {
	id, req, from int64
	started       bool   // SegmentData sent
	data          []byte // bytes from the requested offset
	off           int    // bytes of data sent
}

// Connection states for closeUnless.
type connState int

const (
	stateRegistered connState = iota // answer taken, slot reserved
	stateOpen                        // data channel open
)

func newPeerConn(s *SuperPeer, sw *swarm) *peerConn {
	return &peerConn{
		s: s, sw: sw,
		kick: make(chan struct{}, 1),
		low:  make(chan struct{}, 1),
		done: make(chan struct{}),
	}
}

// setPC attaches pc; if c is already closed pc is released and it
// returns false.
func (c *peerConn) setPC(pc *webrtc.PeerConnection) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.s.releasePC(pc)
		return false
	}
	c.pc = pc
	c.mu.Unlock()
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			c.close("connection " + st.String())
		}
	})
	return true
}

func (c *peerConn) peerConnection() *webrtc.PeerConnection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pc
}

func (c *peerConn) remoteID() string {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.remote
}

// setupDC adopts the connection's data channel (the first one only).
func (c *peerConn) setupDC(dc *webrtc.DataChannel) {
	c.mu.Lock()
	if c.closed || c.dc != nil {
		c.mu.Unlock()
		_ = dc.Close()
		return
	}
	c.dc = dc
	c.mu.Unlock()
	dc.SetBufferedAmountLowThreshold(c.s.cfg.lowWater)
	dc.OnBufferedAmountLow(func() {
		select {
		case c.low <- struct{}{}:
		default:
		}
	})
	dc.OnMessage(c.onMessage)
	dc.OnClose(func() { c.close("data channel closed") })
	dc.OnOpen(c.onOpen) // last: it runs at once if the channel is already open
}

// onOpen starts serving once the data channel is open: the writer sends
// the announcement of everything held right away.
func (c *peerConn) onOpen() {
	c.mu.Lock()
	if c.closed || c.isOpen {
		c.mu.Unlock()
		return
	}
	c.isOpen, c.annDue = true, true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	s := c.s
	s.mu.Lock()
	ok := c.registered && !s.closed
	if ok {
		c.counted = true
		s.open++
	}
	s.mu.Unlock()
	if !ok || !s.goTracked(c.writeLoop) {
		c.close("not registered")
		return
	}
	s.stats.peersTotal.Add(1)
	s.log.Debug("browser connected", "stream", c.sw.stream, "rendition", c.sw.rendition, "peer", c.remoteID())
	c.wake()
}

// onMessage handles one data channel message from the browser.
func (c *peerConn) onMessage(msg webrtc.DataChannelMessage) {
	if !isCommandMessage(msg.Data) {
		return // segment bytes: the super-peer never requests any
	}
	body, err := c.join.add(msg.Data)
	if err != nil {
		c.s.stats.malformed.Add(1)
		return
	}
	if body == nil {
		return
	}
	cmd, err := decodeCommand(body)
	if err != nil {
		c.s.stats.malformed.Add(1)
		return
	}
	switch cmd.typ {
	case cmdRequest:
		c.request(cmd)
	case cmdCancel:
		c.cancel(cmd.req)
	default:
		// Announcements, data, completion and absence concern downloads,
		// which a super-peer never makes.
	}
}

// request makes cmd the upload to serve next; like p2p-media-loader, a new
// request stops the one in progress.
func (c *peerConn) request(cmd command) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.up != nil {
		c.s.stats.requestsCanceled.Add(1)
	}
	c.up = &upload{id: cmd.id, req: cmd.req, from: cmd.from}
	c.mu.Unlock()
	c.wake()
}

// cancel stops the upload with request id req.
func (c *peerConn) cancel(req int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up != nil && c.up.req == req {
		c.up = nil
		c.s.stats.requestsCanceled.Add(1)
	}
}

// queueAnnouncement asks the writer to send the current announcement; an
// announcement still waiting is replaced (counted as dropped).
func (c *peerConn) queueAnnouncement() {
	c.mu.Lock()
	if c.closed || !c.isOpen {
		c.mu.Unlock()
		return
	}
	if c.annDue {
		c.s.stats.dropped.Add(1)
	}
	c.annDue = true
	c.mu.Unlock()
	c.wake()
}

func (c *peerConn) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// setTimer replaces c's timer.
func (c *peerConn) setTimer(d time.Duration, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(d, f)
}

// closeUnless closes c if it has not reached state st.
func (c *peerConn) closeUnless(st connState, reason string) {
	var reached bool
	switch st {
	case stateRegistered:
		c.s.mu.Lock()
		reached = c.registered
		c.s.mu.Unlock()
	case stateOpen:
		c.mu.Lock()
		reached = c.isOpen
		c.mu.Unlock()
	}
	if !reached {
		c.close(reason)
	}
}

// close ends the connection and frees its slot (idempotent).
func (c *peerConn) close(reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	pc := c.pc
	if c.timer != nil {
		c.timer.Stop()
	}
	c.up = nil
	close(c.done)
	c.mu.Unlock()
	c.s.unregister(c)
	if pc != nil {
		c.s.releasePC(pc)
	}
	c.s.log.Debug("browser connection closed", "stream", c.sw.stream, "rendition", c.sw.rendition,
		"peer", c.remoteID(), "reason", reason)
}
