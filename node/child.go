package node

import (
	"sync"
)

// frameKind tells the queue what a frame is, for Skipped bookkeeping.
type frameKind uint8

const (
	frameInfo frameKind = iota
	frameInit
	frameMedia
)

type frame struct {
	b    []byte
	kind frameKind
	seq  uint64
}

// childQueue is one child's bounded queue. push never blocks: when the queue
// is full the frame is dropped and remembered, and once the writer has
// drained the queue it sends Skipped (and the stream info and init segments
// again, if one of those was dropped) before live frames flow again.
type childQueue struct {
	mu       sync.Mutex
	q        []frame
	limit    int
	wake     chan struct{}
	skipping bool
	from, to uint64
	media    bool // a media frame was dropped
	meta     bool // an info or init frame was dropped
	dropped  uint64
}

func newChildQueue(limit int) *childQueue {
	return &childQueue{limit: limit, wake: make(chan struct{}, 1)}
}

// push queues f, or drops it and reports false.
func (c *childQueue) push(f frame) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.skipping || len(c.q) >= c.limit {
		c.skipping = true
		c.dropped++
		if f.kind == frameMedia {
			if !c.media || f.seq < c.from {
				c.from = f.seq
			}
			if !c.media || f.seq > c.to {
				c.to = f.seq
			}
			c.media = true
		} else {
			c.meta = true
		}
		return false
	}
	c.q = append(c.q, f)
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// next takes queued frames. When the queue is empty after a drop it returns
// the skip range instead (skip true) and leaves skipping mode.
func (c *childQueue) next() (fs []frame, skip bool, media bool, from, to uint64, meta bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.q) > 0 {
		fs, c.q = c.q, nil
		return fs, false, false, 0, 0, false
	}
	if !c.skipping {
		return nil, false, false, 0, 0, false
	}
	skip, media, from, to, meta = true, c.media, c.from, c.to, c.meta
	c.skipping, c.media, c.meta, c.from, c.to = false, false, false, 0, 0
	return nil, skip, media, from, to, meta
}
