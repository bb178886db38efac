package comments

import (
	"encoding/binary"
	"fmt"
)

// Badger key layout. Stream names are [A-Za-z0-9_-] (proto.ValidName), so
// "/" after the stream ends it unambiguously; IDs are IDLength hex bytes.
//
//	c/<stream>/<wall ms: 8 bytes BE><logical: 4 bytes BE><id>  -> Encode(comment)
//	i/<id>                                                     -> the c/ key
//	t/<id>                                                     -> commentspb.Tombstone
//	b/<stream>/<author>                                        -> commentspb.Ban
//	r/<stream>                                                 -> this node's own reaction tally
//	a/<stream>/<wall ms: 8 bytes BE><logical: 4 bytes BE><id>  -> commentspb.SignedAction
//
// c/ keys sort a stream's comments in the total order (WallMS, Logical, ID)
// that Range and Latest read; i/ makes Put idempotent and finds a comment
// by ID; t/ keeps a deleted comment from being stored again.
const (
	prefixComment = "c/"
	prefixID      = "i/"
	prefixTomb    = "t/"
	prefixBan     = "b/"
	prefixAction  = "a/"

	tsLen = 12 // 8 bytes wall ms + 4 bytes logical
)

// streamPrefix returns "c/<stream>/".
func streamPrefix(stream string) []byte {
	return append(append([]byte(prefixComment), stream...), '/')
}

// positionKey returns the c/ key of a cursor; with an empty ID it sorts
// before every comment of that timestamp.
func positionKey(stream string, ts Timestamp, id string) []byte {
	k := streamPrefix(stream)
	k = binary.BigEndian.AppendUint64(k, uint64(ts.WallMS))
	k = binary.BigEndian.AppendUint32(k, ts.Logical)
	return append(k, id...)
}

func commentKey(c Comment) []byte { return positionKey(c.Stream, c.HLC, c.ID) }

func idKey(id string) []byte              { return []byte(prefixID + id) }
func tombKey(id string) []byte            { return []byte(prefixTomb + id) }
func banKey(stream, author string) []byte { return []byte(prefixBan + stream + "/" + author) }
func banPrefix(stream string) []byte      { return []byte(prefixBan + stream + "/") }

// streamOfCommentKey returns the stream a c/ key belongs to.
func streamOfCommentKey(k []byte) (string, error) {
	n := len(k) - tsLen - IDLength - 1 // end of stream name
	if n <= len(prefixComment) || string(k[:len(prefixComment)]) != prefixComment || k[n] != '/' {
		return "", fmt.Errorf("%w: malformed comment key %q", ErrStore, k)
	}
	return string(k[len(prefixComment):n]), nil
}

// actionPrefix returns "a/<stream>/".
func actionPrefix(stream string) []byte {
	return append(append([]byte(prefixAction), stream...), '/')
}

// actionKey orders a stream's moderation actions by timestamp.
func actionKey(stream string, ts Timestamp, id string) []byte {
	k := actionPrefix(stream)
	k = binary.BigEndian.AppendUint64(k, uint64(ts.WallMS))
	k = binary.BigEndian.AppendUint32(k, ts.Logical)
	return append(k, id...)
}
