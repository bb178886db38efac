package node

import (
	"bufio"
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/proto/treepb"
)

func TestChildQueue(t *testing.T) {
	media := func(seq uint64) frame { return frame{b: []byte{byte(seq)}, kind: frameMedia, seq: seq} }
	cases := []struct {
		name              string
		push              []frame
		wantQueued        int
		wantSkip, wantMed bool
		from, to          uint64
		wantMeta          bool
	}{
		{"fits", []frame{media(1), media(2)}, 2, false, false, 0, 0, false},
		{"overflow", []frame{media(1), media(2), media(3), media(4), media(5)}, 3, true, true, 4, 100, false},
		{"init dropped", []frame{media(1), media(2), media(3), {kind: frameInit}, media(4)}, 3, true, true, 4, 100, true},
		{"info dropped", []frame{media(1), media(2), media(3), {kind: frameInfo}}, 3, true, true, 100, 100, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := newChildQueue(3)
			for _, f := range tc.push {
				q.push(f)
			}
			fs, skip, _, _, _, _ := q.next()
			if len(fs) != tc.wantQueued || skip {
				t.Fatalf("first next: %d frames, skip %v", len(fs), skip)
			}
			// While skipping, new frames (here media 100) are dropped until
			// the writer has taken the skip.
			if tc.wantSkip && q.push(media(100)) {
				t.Fatal("push accepted while skipping")
			}
			fs, skip, med, from, to, meta := q.next()
			if len(fs) != 0 || skip != tc.wantSkip || med != tc.wantMed || meta != tc.wantMeta {
				t.Fatalf("second next: %d frames, skip %v media %v meta %v", len(fs), skip, med, meta)
			}
			if tc.wantMed && (from != tc.from || to != tc.to) {
				t.Fatalf("skip %d..%d, want %d..%d", from, to, tc.from, tc.to)
			}
			if !q.push(media(200)) {
				t.Fatal("push refused after the skip was taken")
			}
		})
	}
}

func cacheSeg(t *testing.T, o *origin, rend string, seq uint64) (proto.Segment, []byte) {
	t.Helper()
	return o.mediaSeg(rend, seq)
}

func TestCacheWindowAndBroadcast(t *testing.T) {
	o := newOrigin(t, 2, 64)
	c := newCache(10 * time.Second) // five 2 s segments
	if !c.setInfo(o.info) || c.setInfo(o.info) {
		t.Fatal("setInfo should report only a change")
	}
	for _, r := range o.info.Renditions {
		rec, data := o.initSeg(r.Name)
		c.add(rec, data)
	}
	for seq := range uint64(12) {
		for _, r := range o.info.Renditions {
			rec, data := cacheSeg(t, o, r.Name, seq)
			if _, fresh := c.add(rec, data); !fresh {
				t.Fatalf("%d not fresh", seq)
			}
			if _, fresh := c.add(rec, data); fresh {
				t.Fatalf("%d duplicate counted as fresh", seq)
			}
		}
	}
	if got, want := c.sequences("r0"), []uint64{6, 7, 8, 9, 10, 11}; !slices.Equal(got, want) {
		t.Fatalf("window kept %v, want %v", got, want)
	}
	if _, ok := c.lookup("r1", proto.KindInit, 0); !ok {
		t.Fatal("init evicted while media needs it")
	}
	if from, live := c.resume(); from != 12 || live {
		t.Fatalf("resume %d %v", from, live)
	}
	delete(c.rends["r1"].media, 8) // a gap: resume from it
	if from, _ := c.resume(); from != 8 {
		t.Fatalf("resume with gap %d, want 8", from)
	}
	// Back-fill: info, 2 inits, then media >= 10 in order; live edge: 11 only.
	if got := len(c.backfill(10, false)); got != 1+2+4 {
		t.Fatalf("backfill from 10: %d frames", got)
	}
	if got := len(c.backfill(0, true)); got != 1+2+2 {
		t.Fatalf("backfill at live edge: %d frames", got)
	}
	next := o.info
	next.Broadcast = "b2"
	c.setInfo(next)
	if len(c.sequences("r0")) != 0 || len(c.inits()) != 0 {
		t.Fatal("a new broadcast did not replace the old one")
	}
	if from, live := c.resume(); from != 0 || live {
		t.Fatalf("resume after new broadcast %d %v", from, live)
	}
}

func TestPublishChecks(t *testing.T) {
	o := newOrigin(t, 1, 64)
	root := newTestNode(t, o, true)
	relay := newTestNode(t, o, false)
	rec, data := o.mediaSeg("r0", 0)
	if err := relay.Publish(o.info, rec, data); !errors.Is(err, ErrNotRoot) {
		t.Errorf("relay Publish: %v", err)
	}
	bad := append(bytes.Clone(data), 0)
	if err := root.Publish(o.info, rec, bad); !errors.Is(err, ErrBadSegment) {
		t.Errorf("bad data: %v", err)
	}
	info := o.info
	info.Broadcast = "b/2"
	if err := root.Publish(info, rec, data); !errors.Is(err, ErrBadInfo) {
		t.Errorf("bad info: %v", err)
	}
	if err := root.Publish(o.info, rec, data); err != nil {
		t.Errorf("good segment: %v", err)
	}
	if _, err := New(Params{OriginKey: o.pub}); !errors.Is(err, ErrNoHost) {
		t.Errorf("no host: %v", err)
	}
	if _, err := New(Params{Host: root.p.Host, OriginKey: o.pub[:5]}); !errors.Is(err, ErrBadKey) {
		t.Errorf("bad key: %v", err)
	}
}

func TestParseSubscribe(t *testing.T) {
	enc := func(m *treepb.TreeMessage) []byte {
		var b bytes.Buffer
		if err := proto.WriteMessage(&b, m); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	sub := func(s *treepb.Subscribe) []byte {
		return enc(&treepb.TreeMessage{Msg: &treepb.TreeMessage_Subscribe{Subscribe: s}})
	}
	cases := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"good", sub(&treepb.Subscribe{Stream: "demo", FromSequence: 7, Broadcast: "b1"}), true},
		{"live edge", sub(&treepb.Subscribe{Stream: "demo", LiveEdge: true}), true},
		{"bad stream", sub(&treepb.Subscribe{Stream: "../x"}), false},
		{"bad broadcast", sub(&treepb.Subscribe{Stream: "demo", Broadcast: "a b"}), false},
		{"not subscribe", enc(&treepb.TreeMessage{Msg: &treepb.TreeMessage_Skipped{Skipped: &treepb.Skipped{}}}), false},
		{"too big", sub(&treepb.Subscribe{Stream: "demo", Broadcast: string(bytes.Repeat([]byte("a"), 2000))}), false},
		{"garbage", []byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff}, false},
		{"empty", nil, false},
	}
	for _, tc := range cases {
		got, err := parseSubscribe(bufio.NewReader(bytes.NewReader(tc.in)))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, ErrBadSubscribe) {
			t.Errorf("%s: error %v does not wrap ErrBadSubscribe", tc.name, err)
		}
		if tc.ok && got.Stream != "demo" {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}

func TestInfoRoundTrip(t *testing.T) {
	o := newOrigin(t, 3, 64)
	got, err := infoFromPB(o.info.toPB())
	if err != nil || !got.equal(o.info) {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	for _, bad := range []*treepb.StreamInfo{
		nil,
		{Stream: "demo"},
		{Stream: "demo", Broadcast: "b", Renditions: []*treepb.Rendition{{Name: "a"}, {Name: "a"}}},
		{Stream: "demo", Broadcast: "b", Renditions: []*treepb.Rendition{{Name: "a", Width: 1 << 31}}},
		{Stream: "demo", Broadcast: "b", Renditions: []*treepb.Rendition{{Name: "a", FrameRate: -1}}},
	} {
		if _, err := infoFromPB(bad); !errors.Is(err, ErrBadInfo) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
