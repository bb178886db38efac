package origin

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/canopylive/canopy/proto"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestKeyTable(t *testing.T) {
	kt := newKeyTable([]StreamKey{{ID: "a", Key: "key-for-a"}, {ID: "b", Key: "key-for-b"}})
	for _, tc := range []struct {
		key   string
		id    string
		found bool
	}{
		{"key-for-a", "a", true},
		{"key-for-b", "b", true},
		{"key-for-c", "", false},
		{"", "", false},
		{"KEY-FOR-A", "", false},
	} {
		id, ok := kt.lookup(tc.key)
		if id != tc.id || ok != tc.found {
			t.Errorf("lookup(%q) = %q, %v; want %q, %v", tc.key, id, ok, tc.id, tc.found)
		}
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k", "origin.key")
	k1, err := LoadOrGenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrGenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("reloaded key differs")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := GenerateKey(path); err == nil {
		t.Error("GenerateKey overwrote an existing key")
	}
	if err := os.WriteFile(path, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(path); err == nil {
		t.Error("garbage key file accepted")
	}
}

func TestFileStoreLatest(t *testing.T) {
	dir := t.TempDir()
	st, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := testKey(t)
	for _, bc := range []string{"20260101T000000Z-aaaaaa", "20260102T000000Z-bbbbbb"} {
		if err := st.PutMeta(BroadcastMeta{Stream: "s", Broadcast: bc, Renditions: []RenditionInfo{{Name: "144p"}}}); err != nil {
			t.Fatal(err)
		}
		for seq := uint64(0); seq < 3; seq++ {
			rec := proto.Seal(proto.Segment{Stream: "s", Broadcast: bc, Rendition: "144p", Kind: proto.KindMedia,
				Sequence: seq, Duration: 2 * time.Second, ProgramDateTime: time.Unix(1700000000, 0)}, []byte{byte(seq)}, key)
			if err := st.Put(rec, []byte{byte(seq)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A torn last line, as after a crash mid-write, is ignored.
	f, err := os.OpenFile(filepath.Join(dir, "s", "20260102T000000Z-bbbbbb", "records.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"stream":"s","bro`)
	f.Close()

	got, err := st.Latest()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Meta.Broadcast != "20260102T000000Z-bbbbbb" || len(got[0].Records) != 3 {
		t.Fatalf("Latest = %+v", got)
	}
	data, err := st.Get("s", "20260102T000000Z-bbbbbb", "144p", "2.m4s")
	if err != nil || len(data) != 1 || data[0] != 2 {
		t.Fatalf("Get = %v, %v", data, err)
	}
	for _, bad := range [][4]string{{"s", "..", "144p", "2.m4s"}, {"s", "20260102T000000Z-bbbbbb", "144p", "../meta.json"}, {"s", "x", "144p", "9.m4s"}} {
		if _, err := st.Get(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("Get(%v) succeeded", bad)
		}
	}
}

func TestBroadcastWindowAndDiscontinuities(t *testing.T) {
	b := newBroadcast("s", "b1", 10*time.Second)
	b.renditions = []RenditionInfo{{Name: "r"}}
	t0 := time.Unix(1700000000, 0).UTC()
	add := func(disc uint32, seq uint64, at time.Duration) {
		b.addColumn([]proto.Segment{{Stream: "s", Broadcast: "b1", Rendition: "r", Kind: proto.KindMedia, Sequence: seq,
			Discontinuity: disc, Duration: 2 * time.Second, ProgramDateTime: t0.Add(at), Length: 1000}}, [][]byte{make([]byte, 1000)})
	}
	d, s := b.newDiscontinuity()
	if d != 0 || s != 0 {
		t.Fatalf("first discontinuity = %d, %d", d, s)
	}
	for i := uint64(0); i < 10; i++ {
		add(0, i, time.Duration(i)*2*time.Second)
	}
	d, s = b.newDiscontinuity()
	if d != 1 || s != 10 {
		t.Fatalf("second discontinuity = %d, %d; want 1, 10", d, s)
	}
	v := b.snapshot()
	segs := v.segments["r"]
	if segs[0].Sequence != 4 || segs[len(segs)-1].Sequence != 9 {
		t.Errorf("window = %d..%d, want 4..9", segs[0].Sequence, segs[len(segs)-1].Sequence)
	}
	if e, ok := b.lookup("r", proto.KindMedia, 0); !ok || e.data != nil {
		t.Errorf("segment 0 should be indexed without bytes (evicted); ok=%v", ok)
	}
	if e, ok := b.lookup("r", proto.KindMedia, 9); !ok || e.data == nil {
		t.Error("segment 9 should be in memory")
	}
	if _, ok := b.lookup("r", proto.KindMedia, 10); ok {
		t.Error("segment 10 does not exist")
	}
	if peak, avg := b.bandwidth("r"); peak != 4000 || avg != 4000 {
		t.Errorf("bandwidth = %d, %d; want 4000, 4000", peak, avg)
	}
	b.ended = true
	if n := len(b.snapshot().segments["r"]); n != 10 {
		t.Errorf("ended broadcast lists %d segments, want all 10", n)
	}
}

// The declared bandwidth is fixed by the first segment (or the configured
// bit rate, if larger): players' P2P swarm keys include it.
func TestDeclaredBandwidthIsFixedPerBroadcast(t *testing.T) {
	tests := []struct {
		name       string
		configured int
		lengths    []uint64
		want       int
	}{
		{"first segment", 0, []uint64{1000, 5000, 200}, 4000},
		{"configured is larger", 700_000, []uint64{1000, 500_000}, 700_000},
		{"rounded up to kbit/s", 0, []uint64{1001}, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBroadcast("s", "b1", time.Minute)
			b.renditions = []RenditionInfo{{Name: "r", Bitrate: tt.configured}}
			t0 := time.Unix(1700000000, 0).UTC()
			for i, n := range tt.lengths {
				b.addColumn([]proto.Segment{{Stream: "s", Broadcast: "b1", Rendition: "r", Kind: proto.KindMedia,
					Sequence: uint64(i), Duration: 2 * time.Second, ProgramDateTime: t0.Add(time.Duration(i) * 2 * time.Second),
					Length: n}}, [][]byte{make([]byte, n)})
				if got, _ := b.bandwidth("r"); got != tt.want {
					t.Fatalf("after segment %d: declared %d, want %d", i, got, tt.want)
				}
			}
		})
	}
}
