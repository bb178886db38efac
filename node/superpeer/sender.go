package superpeer

import (
	"errors"
	"time"

	"github.com/pion/webrtc/v4"
)

// writeLoop is c's only writer. Per wake-up it sends, in order of
// priority, the pending announcement and the next step of the current
// upload, pausing while the data channel's bufferedAmount is above the
// high-water mark. A browser that does not drain only stalls its own
// writer; after stallTimeout it is disconnected.
func (c *peerConn) writeLoop() {
	c.mu.Lock()
	dc := c.dc
	c.mu.Unlock()
	for {
		select {
		case <-c.done:
			return
		case <-c.kick:
		}
		for {
			msgs, more := c.next()
			if !more {
				break
			}
			for _, m := range msgs {
				if err := c.write(dc, m); err != nil {
					if errors.Is(err, ErrStalled) {
						c.s.stats.stalled.Add(1)
					}
					c.close(err.Error())
					return
				}
			}
		}
	}
}

// next returns the messages to send next; more is false when there is
// nothing left to do.
func (c *peerConn) next() (msgs [][]byte, more bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false
	}
	if c.annDue {
		c.annDue = false
		c.mu.Unlock()
		frames, err := c.sw.announcement(c.s.p.Source)
		if err != nil {
			c.s.log.Warn("announcement not encoded", "err", err)
		}
		return frames, true
	}
	up := c.up
	if up == nil {
		c.mu.Unlock()
		return nil, false
	}
	if !up.started {
		c.mu.Unlock()
		return c.startUpload(up), true
	}
	end := min(up.off+maxMessage, len(up.data))
	msgs = [][]byte{up.data[up.off:end]}
	up.off = end
	if up.off >= len(up.data) {
		c.up = nil
		msgs = append(msgs, commandFrames(command{typ: cmdCompleted, id: up.id, req: up.req})...)
		c.s.stats.segmentsServed.Add(1)
	}
	c.mu.Unlock()
	return msgs, true
}

// startUpload looks the segment up and returns SegmentData, or
// SegmentAbsent when it is not held.
func (c *peerConn) startUpload(up *upload) [][]byte {
	var data []byte
	ok := up.id >= 0 && up.from >= 0
	if ok {
		data, ok = c.s.p.Source.Segment(c.sw.stream, c.sw.rendition, uint64(up.id))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up != up {
		return nil // canceled or superseded meanwhile
	}
	if !ok {
		c.up = nil
		c.s.stats.requestsAbsent.Add(1)
		return commandFrames(command{typ: cmdAbsent, id: up.id, req: up.req})
	}
	up.data = data[min(up.from, int64(len(data))):]
	up.started = true
	msgs := commandFrames(command{typ: cmdData, id: up.id, req: up.req, size: int64(len(up.data))})
	if len(up.data) == 0 {
		c.up = nil
		msgs = append(msgs, commandFrames(command{typ: cmdCompleted, id: up.id, req: up.req})...)
		c.s.stats.segmentsServed.Add(1)
	}
	return msgs
}

// commandFrames encodes and frames a command built by this package.
func commandFrames(cmd command) [][]byte {
	body, err := encodeCommand(cmd)
	if err != nil {
		return nil // only announcements can fail, and they are capped
	}
	return frameCommand(body, maxMessage)
}

// write sends one message once the channel's buffer has room.
func (c *peerConn) write(dc *webrtc.DataChannel, m []byte) error {
	for dc.BufferedAmount() > c.s.cfg.highWater {
		t := time.NewTimer(c.s.cfg.stallTimeout)
		select {
		case <-c.low:
			t.Stop()
		case <-c.done:
			t.Stop()
			return ErrClosed
		case <-t.C:
			return ErrStalled
		}
	}
	if err := dc.Send(m); err != nil {
		return err
	}
	c.s.stats.bytesSent.Add(uint64(len(m)))
	return nil
}
