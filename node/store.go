package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Layout of the node's Badger database in <DataDir>/db. Keys are
// namespaced by a prefix; values are JSON objects with a version field "v"
// so that a later release can read (or knowingly skip) older records.
const (
	storeDir      = "db"
	storeVersion  = 1
	keyAssign     = "assign/" // + stream: the stream's last Assignment
	keyParent     = "parent/" // + peer ID: addresses a parent was reached at
	maxStoredAddr = 16        // addresses kept per peer

	// Sizes for a volunteer's machine: a few MB of memory instead of
	// Badger's server defaults (64 MB memtables, 1 GB value log files).
	storeMemTable   = 4 << 20
	storeVlogFile   = 8 << 20
	storeBlockCache = 4 << 20
	// Values above this go to the value log; it must stay below Badger's
	// batch limit, a fraction of the memtable.
	storeValueThresh = 64 << 10
)

// peerRecord is a peer ID and its multiaddrs in text form.
type peerRecord struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs,omitempty"`
}

// assignRecord is the value under keyAssign.
type assignRecord struct {
	V      int         `json:"v"`
	Parent *peerRecord `json:"parent,omitempty"`
	Backup *peerRecord `json:"backup,omitempty"`
	Saved  time.Time   `json:"saved"`
}

// parentRecord is the value under keyParent.
type parentRecord struct {
	V     int       `json:"v"`
	Addrs []string  `json:"addrs"`
	Seen  time.Time `json:"seen"`
}

// store persists what a restarted node needs to rejoin its trees without a
// tracker. A nil *store (no DataDir) stores nothing and finds nothing.
type store struct {
	log *slog.Logger
	now func() time.Time

	mu sync.RWMutex // write-locked only by close
	db *badger.DB   // nil once closed
}

// openStore opens (or creates) the database under dir.
func openStore(dir string, log *slog.Logger, now func() time.Time) (*store, error) {
	path := filepath.Join(dir, storeDir)
	opts := badger.DefaultOptions(path).
		WithLogger(badgerLogger{log}).
		WithLoggingLevel(badger.WARNING).
		WithMemTableSize(storeMemTable).
		WithNumMemtables(2).
		WithValueLogFileSize(storeVlogFile).
		WithValueThreshold(storeValueThresh).
		WithBlockCacheSize(storeBlockCache).
		WithNumCompactors(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithMetricsEnabled(false)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrStore, path, err)
	}
	return &store{log: log, now: now, db: db}, nil
}

// close closes the database; later calls do nothing.
func (st *store) close() error {
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.db == nil {
		return nil
	}
	err := st.db.Close()
	st.db = nil
	if err != nil {
		return fmt.Errorf("%w: close: %w", ErrStore, err)
	}
	return nil
}

func (st *store) put(key string, v any) error {
	if st == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrStore, key, err)
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.db == nil {
		return ErrClosed
	}
	if err := st.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(key), b) }); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrStore, key, err)
	}
	return nil
}

// get returns the raw value under key, or false when there is none.
func (st *store) get(key string) ([]byte, bool) {
	if st == nil {
		return nil, false
	}
	var b []byte
	st.mu.RLock()
	err := ErrClosed
	if st.db != nil {
		err = st.db.View(func(txn *badger.Txn) error {
			it, err := txn.Get([]byte(key))
			if err != nil {
				return err
			}
			b, err = it.ValueCopy(nil)
			return err
		})
	}
	st.mu.RUnlock()
	if err != nil {
		if !errors.Is(err, badger.ErrKeyNotFound) {
			st.log.Warn("reading stored value", "key", key, "err", err)
		}
		return nil, false
	}
	return b, true
}

// saveAssignment records a stream's parent and backup.
func (st *store) saveAssignment(stream string, a assignment) error {
	if st == nil {
		return nil
	}
	rec := assignRecord{V: storeVersion, Saved: st.now()}
	if a.parent.ID != "" {
		rec.Parent = toPeerRecord(a.parent.ID, a.parent.Addrs)
	}
	if a.backup.ID != "" {
		rec.Backup = toPeerRecord(a.backup.ID, a.backup.Addrs)
	}
	return st.put(keyAssign+stream, &rec)
}

// loadAssignment returns a stream's stored parent and backup, each with
// the addresses it was last reached at first. A value that does not decode
// is logged and ignored.
func (st *store) loadAssignment(stream string) (assignment, bool) {
	b, ok := st.get(keyAssign + stream)
	if !ok {
		return assignment{}, false
	}
	a, err := decodeAssignment(b)
	if err != nil {
		st.log.Warn("ignoring stored value", "key", keyAssign+stream, "err", err)
		return assignment{}, false
	}
	if a.parent.ID == "" && a.backup.ID == "" {
		return assignment{}, false
	}
	a.parent.Addrs = mergeAddrs(st.parentAddrs(a.parent.ID), a.parent.Addrs)
	a.backup.Addrs = mergeAddrs(st.parentAddrs(a.backup.ID), a.backup.Addrs)
	return a, true
}

// decodeAssignment parses an assignRecord.
func decodeAssignment(b []byte) (assignment, error) {
	var rec assignRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return assignment{}, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if rec.V != storeVersion {
		return assignment{}, fmt.Errorf("%w: record version %d, want %d", ErrStore, rec.V, storeVersion)
	}
	var a assignment
	var err error
	if rec.Parent != nil {
		if a.parent, err = fromPeerRecord(rec.Parent); err != nil {
			return assignment{}, err
		}
	}
	if rec.Backup != nil {
		if a.backup, err = fromPeerRecord(rec.Backup); err != nil {
			return assignment{}, err
		}
	}
	return a, nil
}

// decodeParent parses a parentRecord.
func decodeParent(b []byte) ([]ma.Multiaddr, error) {
	var rec parentRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if rec.V != storeVersion {
		return nil, fmt.Errorf("%w: record version %d, want %d", ErrStore, rec.V, storeVersion)
	}
	return parseAddrs(rec.Addrs), nil
}

// saveParent records the addresses of a peer this node attached to as a
// parent, the one the working connection used first. Unchanged records are
// not rewritten.
func (st *store) saveParent(id peer.ID, addrs []ma.Multiaddr) error {
	if st == nil || id == "" {
		return nil
	}
	addrs = mergeAddrs(addrs, nil)
	if old, ok := st.get(keyParent + id.String()); ok {
		if prev, err := decodeParent(old); err == nil && slices.EqualFunc(prev, addrs, func(x, y ma.Multiaddr) bool { return x.Equal(y) }) {
			return nil
		}
	}
	rec := parentRecord{V: storeVersion, Seen: st.now()}
	for _, a := range addrs {
		rec.Addrs = append(rec.Addrs, a.String())
	}
	return st.put(keyParent+id.String(), &rec)
}

// parentAddrs returns the stored addresses of a former parent.
func (st *store) parentAddrs(id peer.ID) []ma.Multiaddr {
	if id == "" {
		return nil
	}
	b, ok := st.get(keyParent + id.String())
	if !ok {
		return nil
	}
	addrs, err := decodeParent(b)
	if err != nil {
		st.log.Warn("ignoring stored value", "key", keyParent+id.String(), "err", err)
		return nil
	}
	return addrs
}

func toPeerRecord(id peer.ID, addrs []ma.Multiaddr) *peerRecord {
	r := &peerRecord{ID: id.String()}
	for _, a := range mergeAddrs(addrs, nil) {
		r.Addrs = append(r.Addrs, a.String())
	}
	return r
}

func fromPeerRecord(r *peerRecord) (peer.AddrInfo, error) {
	id, err := peer.Decode(r.ID)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("%w: %w", ErrBadPeer, err)
	}
	return peer.AddrInfo{ID: id, Addrs: parseAddrs(r.Addrs)}, nil
}

// parseAddrs parses text multiaddrs, skipping bad ones.
func parseAddrs(ss []string) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, s := range ss {
		if a, err := ma.NewMultiaddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// mergeAddrs returns first then rest without nils and duplicates, at most
// maxStoredAddr of them.
func mergeAddrs(first, rest []ma.Multiaddr) []ma.Multiaddr {
	var out []ma.Multiaddr
	seen := map[string]bool{}
	for _, a := range append(append([]ma.Multiaddr(nil), first...), rest...) {
		if a == nil || len(a.Bytes()) == 0 || seen[string(a.Bytes())] || len(out) == maxStoredAddr {
			continue
		}
		seen[string(a.Bytes())] = true
		out = append(out, a)
	}
	return out
}

// badgerLogger passes Badger's warnings and errors to slog and drops its
// chatty info and debug lines.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, args ...any) {
	l.log.Error("badger: " + strings.TrimRight(fmt.Sprintf(f, args...), "\n"))
}

func (l badgerLogger) Warningf(f string, args ...any) {
	l.log.Warn("badger: " + strings.TrimRight(fmt.Sprintf(f, args...), "\n"))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
