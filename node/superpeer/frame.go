package superpeer

import (
	"bytes"
	"fmt"
)

// Frame markers around command messages on the data channel. A message is
// a command (part) iff it starts with cstr/dstr and ends with cend/dend;
// anything else is raw segment data.
var (
	frameStart    = []byte("cstr") // first part of a command
	frameEnd      = []byte("cend") // last part of a command
	frameDivStart = []byte("dstr") // continuation part
	frameDivEnd   = []byte("dend") // more parts follow
)

const frameLen = 4

// maxMessage is the largest data channel message the super-peer writes:
// p2p-media-loader's default webRtcMaxMessageSize (64 KiB - 1).
const maxMessage = 64*1024 - 1

// frameCommand wraps a command body into one or more messages of at most
// maxLen bytes, splitting it into equal parts exactly as p2p-media-loader
// does.
func frameCommand(body []byte, maxLen int) [][]byte {
	overhead := 2 * frameLen
	if len(body)+overhead <= maxLen {
		return [][]byte{framed(frameStart, body, frameEnd)}
	}
	// Same part count as p2p-media-loader: by maxLen, plus one if the
	// framed parts would then be too long.
	count := ceilDiv(len(body), maxLen)
	if ceilDiv(len(body), count)+overhead > maxLen {
		count++
	}
	partLen := ceilDiv(len(body), count)
	out := make([][]byte, 0, count)
	for i := range count {
		lo, hi := min(i*partLen, len(body)), min((i+1)*partLen, len(body))
		start, end := frameDivStart, frameDivEnd
		if i == 0 {
			start = frameStart
		}
		if i == count-1 {
			end = frameEnd
		}
		out = append(out, framed(start, body[lo:hi], end))
	}
	return out
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func framed(start, body, end []byte) []byte {
	out := make([]byte, 0, len(start)+len(body)+len(end))
	out = append(out, start...)
	out = append(out, body...)
	return append(out, end...)
}

// isCommandMessage reports whether a data channel message is a command
// part rather than raw segment bytes.
func isCommandMessage(m []byte) bool {
	if len(m) < frameLen {
		return false
	}
	head, tail := m[:frameLen], m[len(m)-frameLen:]
	return (bytes.Equal(head, frameStart) || bytes.Equal(head, frameDivStart)) &&
		(bytes.Equal(tail, frameEnd) || bytes.Equal(tail, frameDivEnd))
}

// maxJoined bounds the size of a command reassembled from parts; the only
// large command is an announcement of at most a few hundred ids.
const maxJoined = 64 * 1024

// joiner reassembles command parts. It is not safe for concurrent use.
type joiner struct {
	buf     []byte
	joining bool
}

// add feeds one command message. It returns the complete body when msg
// ends a command, or an error when the sequence of parts is broken (the
// joiner then starts over, dropping what it held, like p2p-media-loader).
func (j *joiner) add(msg []byte) ([]byte, error) {
	if len(msg) < 2*frameLen {
		j.reset()
		return nil, fmt.Errorf("%w: frame of %d bytes", ErrMalformed, len(msg))
	}
	first := bytes.Equal(msg[:frameLen], frameStart)
	switch {
	case !j.joining && !first:
		j.reset()
		return nil, fmt.Errorf("%w: continuation without a first part", ErrMalformed)
	case j.joining && first:
		j.reset()
		return nil, fmt.Errorf("%w: new command before the last one ended", ErrMalformed)
	}
	part := msg[frameLen : len(msg)-frameLen]
	if len(j.buf)+len(part) > maxJoined {
		j.reset()
		return nil, fmt.Errorf("%w: command longer than %d bytes", ErrMalformed, maxJoined)
	}
	j.joining = true
	j.buf = append(j.buf, part...)
	if !bytes.Equal(msg[len(msg)-frameLen:], frameEnd) {
		return nil, nil
	}
	body := j.buf
	j.buf, j.joining = nil, false
	return body, nil
}

func (j *joiner) reset() { j.buf, j.joining = nil, false }
