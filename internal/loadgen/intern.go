package loadgen

import "sync"

// interner shares the bytes of identical verified segments between the
// viewers of one process, so that N viewers hold one copy, not N. The most
// recent entries are kept; evicted ones live on while viewers use them.
type interner struct {
	mu    sync.Mutex
	m     map[[32]byte][]byte
	order [][32]byte
	keep  int
}

func newInterner(keep int) *interner {
	return &interner{m: map[[32]byte][]byte{}, keep: keep}
}

// intern returns the shared copy of data, whose SHA-256 is sum.
func (in *interner) intern(sum [32]byte, data []byte) []byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	if d, ok := in.m[sum]; ok {
		return d
	}
	in.m[sum] = data
	in.order = append(in.order, sum)
	if len(in.order) > in.keep {
		delete(in.m, in.order[0])
		in.order = in.order[1:]
	}
	return data
}
