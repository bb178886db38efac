package origin

import (
	"crypto/sha256"
	"crypto/subtle"
)

// StreamKey maps a secret publishing key to the public stream ID.
type StreamKey struct {
	ID  string
	Key string
}

// keyTable looks up stream keys without keeping them in a map keyed by the
// secret and compares in constant time.
type keyTable struct {
	entries []keyEntry
}

type keyEntry struct {
	id   string
	hash [32]byte
}

func newKeyTable(keys []StreamKey) *keyTable {
	t := &keyTable{}
	for _, k := range keys {
		t.entries = append(t.entries, keyEntry{id: k.ID, hash: sha256.Sum256([]byte(k.Key))})
	}
	return t
}

// lookup returns the stream ID for key. Every entry is compared so the time
// taken does not depend on which key matched.
func (t *keyTable) lookup(key string) (string, bool) {
	h := sha256.Sum256([]byte(key))
	id, found := "", false
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			id, found = e.id, true
		}
	}
	return id, found
}

// Authorize reports whether key is the publishing key of stream: the
// broadcaster's credential, which also authorizes moderation.
func (o *Origin) Authorize(stream, key string) bool {
	id, ok := o.keys.lookup(key)
	return ok && id == stream
}
