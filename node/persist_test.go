package node

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/canopylive/canopy/proto"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// deadTracker returns the address of a tracker that is not running.
func deadTracker(t *testing.T) peer.AddrInfo {
	t.Helper()
	h := newTestHost(t)
	ai := peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	return ai
}

// newDataNode starts a relay node with a data directory on a fresh host.
func newDataNode(t *testing.T, o *origin, dir string, trackers []peer.AddrInfo, log *slog.Logger) *Node {
	t.Helper()
	n, err := New(Params{
		Host: newTestHost(t), OriginKey: o.pub, Streams: []string{testStream},
		Trackers: trackers, DataDir: dir, Logger: log, HeartbeatInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// publishUntil publishes a column every 20 ms from *seq on until cond holds.
func publishUntil(t *testing.T, o *origin, root *Node, seq *uint64, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		o.publishColumn(t, root, *seq)
		*seq++
		<-tick.C
	}
}

// TestRestartReattachesWithoutTracker assigns a node a parent and a backup,
// closes it, and starts a new node on the same data directory while the
// only tracker is down: it re-attaches to the stored parent, or to the
// stored backup when the parent is gone, and receives verified segments.
func TestRestartReattachesWithoutTracker(t *testing.T) {
	cases := []struct {
		name       string
		killParent bool
	}{
		{"parent alive", false},
		{"parent gone, backup", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, 2, 1<<10)
			root := newTestNode(t, o, true)
			mid := newTestNode(t, o, false)
			if err := mid.Assign(testStream, addrOf(root), peer.AddrInfo{}); err != nil {
				t.Fatal(err)
			}
			eventually(t, 10*time.Second, "mid attached", func() bool { return children(root) == 1 })
			o.publishInits(t, root)
			var seq uint64
			dir := t.TempDir()
			trackers := []peer.AddrInfo{deadTracker(t)}

			first := newDataNode(t, o, dir, trackers, nil)
			if err := first.Assign(testStream, addrOf(mid), addrOf(root)); err != nil {
				t.Fatal(err)
			}
			publishUntil(t, o, root, &seq, "first node fed", func() bool {
				return first.Parent(testStream) == mid.p.Host.ID() && len(first.Sequences(testStream, "r0")) >= 2
			})
			if err := first.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			if err := first.p.Host.Close(); err != nil {
				t.Fatal(err)
			}
			want := mid
			if tc.killParent {
				_ = mid.Close()
				_ = mid.p.Host.Close()
				want = root
			}

			second := newDataNode(t, o, dir, trackers, nil)
			if a := second.stream(testStream, false).assignment(); a.parent.ID != mid.p.Host.ID() || a.backup.ID != root.p.Host.ID() {
				t.Fatalf("restored assignment %v / %v, want mid / root", a.parent.ID, a.backup.ID)
			}
			publishUntil(t, o, root, &seq, "restarted node attached and fed", func() bool {
				return second.Parent(testStream) == want.p.Host.ID() && len(second.Sequences(testStream, "r1")) >= 3
			})
			for _, r := range o.info.Renditions {
				seqs := second.Sequences(testStream, r.Name)
				last := seqs[len(seqs)-1]
				rec, data, ok := second.Segment(testStream, r.Name, proto.KindMedia, last)
				if !ok {
					t.Fatalf("%s: segment %d missing", r.Name, last)
				}
				if err := rec.VerifyData(o.pub, data); err != nil {
					t.Errorf("%s/%d does not verify: %v", r.Name, last, err)
				}
			}
		})
	}
}

// TestCorruptStoreIgnored writes bad values into a node's database: each
// is logged as a warning and ignored, and the node starts.
func TestCorruptStoreIgnored(t *testing.T) {
	o := newOrigin(t, 1, 512)
	root := newTestNode(t, o, true)
	rootID := root.p.Host.ID().String()
	rootAddr := root.p.Host.Addrs()[0].String()
	cases := []struct {
		name       string
		values     map[string]string
		wantParent bool // the stored assignment is still usable
	}{
		{"not json", map[string]string{"assign/demo": "\x00\xffgarbage"}, false},
		{"future version", map[string]string{"assign/demo": `{"v":99,"parent":{"id":"` + rootID + `"}}`}, false},
		{"bad peer id", map[string]string{"assign/demo": `{"v":1,"parent":{"id":"not-a-peer"}}`}, false},
		{"bad parent addresses", map[string]string{
			"assign/demo":      `{"v":1,"parent":{"id":"` + rootID + `","addrs":["` + rootAddr + `","/bogus/1"]}}`,
			"parent/" + rootID: `[1,2,3]`,
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, storeDir)).WithLogger(nil))
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(txn *badger.Txn) error {
				for k, v := range tc.values {
					if err := txn.Set([]byte(k), []byte(v)); err != nil {
						return err
					}
				}
				return nil
			})
			if cerr := db.Close(); err != nil || cerr != nil {
				t.Fatal(err, cerr)
			}
			var logs syncBuffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			n := newDataNode(t, o, dir, nil, log)
			if !strings.Contains(logs.String(), "ignoring stored value") {
				t.Errorf("no warning logged; log:\n%s", logs.String())
			}
			a := n.stream(testStream, false).assignment()
			if !tc.wantParent {
				if a.parent.ID != "" || a.backup.ID != "" {
					t.Fatalf("corrupt assignment restored: %+v", a)
				}
				return
			}
			eventually(t, 10*time.Second, "attached to the stored parent", func() bool { return n.Parent(testStream) == root.p.Host.ID() })
		})
	}
}

// FuzzDecodeAssignment checks that no stored value crashes the decoder and
// that whatever decodes survives a save/load round trip of its IDs.
func FuzzDecodeAssignment(f *testing.F) {
	f.Add([]byte(`{"v":1,"parent":{"id":"12D3KooWGzG8cF1sBJ5hYGh8YZqKHqkBEXvKq6bRKs3Tt1PZkGqN","addrs":["/ip4/127.0.0.1/tcp/1"]}}`))
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeAssignment(b)
		if err != nil {
			return
		}
		if a.parent.ID != "" {
			if _, err := peer.Decode(a.parent.ID.String()); err != nil {
				t.Fatalf("decoded parent ID %q does not re-decode: %v", a.parent.ID, err)
			}
		}
		_, _ = decodeParent(b)
	})
}
