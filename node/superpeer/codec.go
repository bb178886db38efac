package superpeer

import (
	"fmt"
	"math/bits"
)

// cmdType is the first byte of a p2p-media-loader peer command.
type cmdType byte

// Command types, numbered as in p2p-media-loader-core 2.x
// (p2p/commands/types.ts).
const (
	cmdAnnouncement cmdType = 0 // l: loaded ids, p: ids loading over HTTP
	cmdRequest      cmdType = 1 // i, r, b (byte offset, only when > 0)
	cmdData         cmdType = 2 // i, s (byte count), r
	cmdCompleted    cmdType = 3 // i, r
	cmdAbsent       cmdType = 4 // i, r
	cmdCancel       cmdType = 5 // i, r
)

// Item type codes in the high nibble of an item's first byte.
const (
	itemInt      = 0
	itemIntArray = 1
	itemString   = 2
)

// maxArrayLen is the longest id list p2p-media-loader can carry without
// its one-byte group counts overflowing; announcements are capped to it.
const maxArrayLen = 255

// command is one decoded peer command. Fields a command type does not use
// are zero.
type command struct {
	typ     cmdType
	id      int64   // i: segment id (HLS live: media sequence number)
	req     int64   // r: request id
	size    int64   // s: byte count of SegmentData
	from    int64   // b: byte offset of a request (0 when absent)
	loaded  []int64 // l
	loading []int64 // p
}

// encodeCommand returns a command's unframed body with the fields in the
// order p2p-media-loader writes them.
func encodeCommand(c command) ([]byte, error) {
	b := []byte{byte(c.typ)}
	var err error
	switch c.typ {
	case cmdAnnouncement:
		if len(c.loaded) > 0 {
			if b, err = appendIntArray(append(b, 'l'), c.loaded); err != nil {
				return nil, err
			}
		}
		if len(c.loading) > 0 {
			if b, err = appendIntArray(append(b, 'p'), c.loading); err != nil {
				return nil, err
			}
		}
	case cmdRequest:
		b = appendInt(append(b, 'i'), c.id)
		b = appendInt(append(b, 'r'), c.req)
		if c.from != 0 {
			b = appendInt(append(b, 'b'), c.from)
		}
	case cmdData:
		b = appendInt(append(b, 'i'), c.id)
		b = appendInt(append(b, 's'), c.size)
		b = appendInt(append(b, 'r'), c.req)
	case cmdCompleted, cmdAbsent, cmdCancel:
		b = appendInt(append(b, 'i'), c.id)
		b = appendInt(append(b, 'r'), c.req)
	default:
		return nil, fmt.Errorf("%w: unknown command type %d", ErrMalformed, c.typ)
	}
	return b, nil
}

// appendInt appends an Int item: a header byte holding the byte count, then
// the magnitude big-endian in the fewest bytes that leave the top bit free
// for the sign.
func appendInt(b []byte, v int64) []byte {
	mag := uint64(v)
	if v < 0 {
		mag = -mag
	}
	n := (max(bits.Len64(mag), 1) + 1 + 7) / 8
	b = append(b, byte(itemInt<<4|n))
	start := len(b)
	for i := n - 1; i >= 0; i-- {
		if i >= 8 {
			b = append(b, 0)
			continue
		}
		b = append(b, byte(mag>>(8*uint(i))))
	}
	if v < 0 {
		b[start] |= 0x80
	}
	return b
}

// appendIntArray appends a SimilarIntArray item: values grouped by all but
// their low byte (groups in order of first appearance), each group an Int
// holding the common part with the group length in its low byte, followed
// by the low bytes.
func appendIntArray(b []byte, vs []int64) ([]byte, error) {
	type group struct {
		common int64
		lows   []byte
	}
	var groups []*group
	index := map[int64]*group{}
	for _, v := range vs {
		common := v &^ 0xff
		g := index[common]
		if g == nil {
			g = &group{common: common}
			index[common] = g
			groups = append(groups, g)
		}
		g.lows = append(g.lows, byte(v))
	}
	if len(groups) > maxArrayLen {
		return nil, fmt.Errorf("%w: %d groups", ErrMalformed, len(groups))
	}
	b = append(b, itemIntArray<<4, byte(len(groups)))
	for _, g := range groups {
		if len(g.lows) > maxArrayLen {
			return nil, fmt.Errorf("%w: group of %d values", ErrMalformed, len(g.lows))
		}
		b = appendInt(b, g.common|int64(len(g.lows)))
		b = append(b, g.lows...)
	}
	return b, nil
}

// decodeCommand parses an unframed command body. It accepts what
// p2p-media-loader writes and rejects anything it could not have written
// or that lacks a field the command needs.
func decodeCommand(body []byte) (command, error) {
	if len(body) == 0 {
		return command{}, fmt.Errorf("%w: empty", ErrMalformed)
	}
	c := command{typ: cmdType(body[0])}
	if c.typ > cmdCancel {
		return command{}, fmt.Errorf("%w: unknown command type %d", ErrMalformed, body[0])
	}
	seen := map[byte]bool{}
	for off := 1; off < len(body); {
		name := body[off]
		off++
		if off >= len(body) {
			return command{}, fmt.Errorf("%w: field %q has no value", ErrMalformed, name)
		}
		var n int
		var err error
		switch typ := body[off] >> 4; {
		case typ == itemInt:
			var v int64
			if v, n, err = decodeInt(body[off:]); err == nil {
				err = c.setInt(name, v)
			}
		case typ == itemIntArray:
			var vs []int64
			if vs, n, err = decodeIntArray(body[off:]); err == nil {
				err = c.setArray(name, vs)
			}
		case typ == itemString:
			if n, err = skipString(body[off:]); err == nil && isKnownField(name) {
				err = fmt.Errorf("%w: field %q is a string", ErrMalformed, name)
			}
		default:
			err = fmt.Errorf("%w: item type %d", ErrMalformed, typ)
		}
		if err != nil {
			return command{}, err
		}
		seen[name] = true
		off += n
	}
	for _, f := range requiredFields(c.typ) {
		if !seen[f] {
			return command{}, fmt.Errorf("%w: command %d lacks %q", ErrMalformed, c.typ, f)
		}
	}
	return c.relevant(), nil
}

// relevant clears the fields c's type does not use.
func (c command) relevant() command {
	out := command{typ: c.typ}
	switch c.typ {
	case cmdAnnouncement:
		out.loaded, out.loading = c.loaded, c.loading
	case cmdRequest:
		out.id, out.req, out.from = c.id, c.req, c.from
	case cmdData:
		out.id, out.req, out.size = c.id, c.req, c.size
	default:
		out.id, out.req = c.id, c.req
	}
	return out
}

func isKnownField(name byte) bool {
	switch name {
	case 'i', 'r', 's', 'b', 'l', 'p':
		return true
	}
	return false
}

func requiredFields(t cmdType) []byte {
	switch t {
	case cmdRequest, cmdCompleted, cmdAbsent, cmdCancel:
		return []byte{'i', 'r'}
	case cmdData:
		return []byte{'i', 's', 'r'}
	}
	return nil
}

func (c *command) setInt(name byte, v int64) error {
	switch name {
	case 'i':
		c.id = v
	case 'r':
		c.req = v
	case 's':
		c.size = v
	case 'b':
		c.from = v
	case 'l', 'p':
		return fmt.Errorf("%w: field %q is an integer", ErrMalformed, name)
	}
	return nil
}

func (c *command) setArray(name byte, vs []int64) error {
	switch name {
	case 'l':
		c.loaded = vs
	case 'p':
		c.loading = vs
	case 'i', 'r', 's', 'b':
		return fmt.Errorf("%w: field %q is an array", ErrMalformed, name)
	}
	return nil
}

// decodeInt reads an Int item; it returns the value and the item's length.
// Values beyond int64 are rejected (browsers write at most 2^53-1).
func decodeInt(b []byte) (int64, int, error) {
	if len(b) == 0 || b[0]>>4 != itemInt {
		return 0, 0, fmt.Errorf("%w: not an integer", ErrMalformed)
	}
	n := int(b[0] & 0x0f)
	if len(b) < 1+n {
		return 0, 0, fmt.Errorf("%w: integer truncated", ErrMalformed)
	}
	if n == 0 {
		return 0, 1, nil
	}
	var mag uint64
	for i, x := range b[1 : 1+n] {
		if i == 0 {
			x &= 0x7f
		}
		if mag>>55 != 0 {
			return 0, 0, fmt.Errorf("%w: integer overflows", ErrMalformed)
		}
		mag = mag<<8 | uint64(x)
	}
	if mag > 1<<63-1 {
		return 0, 0, fmt.Errorf("%w: integer overflows", ErrMalformed)
	}
	v := int64(mag)
	if b[1]&0x80 != 0 {
		v = -v
	}
	return v, 1 + n, nil
}

// decodeIntArray reads a SimilarIntArray item.
func decodeIntArray(b []byte) ([]int64, int, error) {
	if len(b) < 2 || b[0]>>4 != itemIntArray {
		return nil, 0, fmt.Errorf("%w: array truncated", ErrMalformed)
	}
	groups := int(b[1])
	off := 2
	var out []int64
	for range groups {
		cpl, n, err := decodeInt(b[off:])
		if err != nil {
			return nil, 0, err
		}
		off += n
		count := int(cpl & 0xff)
		if len(b) < off+count {
			return nil, 0, fmt.Errorf("%w: array truncated", ErrMalformed)
		}
		common := cpl &^ 0xff
		for _, low := range b[off : off+count] {
			out = append(out, common|int64(low))
		}
		off += count
	}
	return out, off, nil
}

// skipString checks a String item (12-bit length) and returns its length.
func skipString(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: string truncated", ErrMalformed)
	}
	n := int(b[0]&0x0f)<<8 | int(b[1])
	if len(b) < 2+n {
		return 0, fmt.Errorf("%w: string truncated", ErrMalformed)
	}
	return 2 + n, nil
}
