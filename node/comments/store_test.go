package comments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func ids(cs []Comment) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func mustPut(t *testing.T, s *Store, cs []Comment, want int) {
	t.Helper()
	n, err := s.Put(testCtx(t, 10*time.Second), cs)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if n != want {
		t.Fatalf("Put added %d, want %d", n, want)
	}
}

func TestPutIdempotent(t *testing.T) {
	s := openTest(t, StoreParams{})
	a := mk("demo", "ann", "hello", 1000, 0, 1)
	b := mk("demo", "ann", "hello", 1000, 0, 2) // same text posted again
	mustPut(t, s, []Comment{a}, 1)
	mustPut(t, s, []Comment{a}, 0)
	mustPut(t, s, []Comment{a, b, b}, 1)
	if n, _ := s.Count("demo"); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	got, ok, err := s.Get(b.ID)
	if err != nil || !ok || got != b {
		t.Fatalf("Get = %+v, %v, %v; want %+v", got, ok, err, b)
	}
	if !s.Has(a.ID) || s.Has(mk("demo", "x", "y", 1, 0, 3).ID) {
		t.Fatalf("Has wrong")
	}
}

func TestPutInvalidStoresNothing(t *testing.T) {
	s := openTest(t, StoreParams{})
	good := mk("demo", "ann", "ok", 1000, 0, 1)
	bad := mk("demo", "ann", "bad\x00", 1000, 0, 2)
	forged := good
	forged.Text = "changed"
	for _, batch := range [][]Comment{{good, bad}, {forged, good}} {
		n, err := s.Put(testCtx(t, 10*time.Second), batch)
		if !errors.Is(err, ErrInvalid) || n != 0 {
			t.Fatalf("Put = %d, %v; want 0, ErrInvalid", n, err)
		}
	}
	if s.Has(good.ID) {
		t.Fatalf("a rejected batch stored its valid comment")
	}
}

func TestRangeAndLatest(t *testing.T) {
	s := openTest(t, StoreParams{})
	var all []Comment
	for i := range 50 {
		// Several comments share a timestamp so that paging must use IDs.
		all = append(all, mk("demo", "ann", fmt.Sprint("c", i), 1000+int64(i/5), uint32(i%2), uint64(i)))
	}
	other := mk("demo2", "ann", "elsewhere", 1010, 0, 999)
	shuffled := slices.Clone(all)
	slices.Reverse(shuffled)
	mustPut(t, s, append(shuffled, other), 51)
	slices.SortFunc(all, Compare)

	var got []Comment
	cur := Cursor{}
	for page := 0; ; page++ {
		cs, err := s.Range("demo", cur, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			break
		}
		if len(cs) > 7 || page > 10 {
			t.Fatalf("page %d has %d comments", page, len(cs))
		}
		got = append(got, cs...)
		cur = cs[len(cs)-1].Cursor()
	}
	if !slices.Equal(ids(got), ids(all)) {
		t.Fatalf("paged Range order:\n got %v\nwant %v", ids(got), ids(all))
	}

	tests := []struct {
		name  string
		after Cursor
		limit int
		want  []Comment
	}{
		{"all", Cursor{}, 100, all},
		{"limit 0", Cursor{}, 0, nil},
		{"at or after a timestamp", Cursor{HLC: all[10].HLC}, 100, all[10:]},
		{"strictly after a comment", all[10].Cursor(), 3, all[11:14]},
		{"after the last", all[49].Cursor(), 10, nil},
	}
	for _, tt := range tests {
		cs, err := s.Range("demo", tt.after, tt.limit)
		if err != nil || !slices.Equal(ids(cs), ids(tt.want)) {
			t.Errorf("%s: Range = %v, %v; want %v", tt.name, ids(cs), err, ids(tt.want))
		}
	}
	for _, n := range []int{1, 10, 50, 80} {
		cs, err := s.Latest("demo", n)
		want := all[max(0, 50-n):]
		if err != nil || !slices.Equal(ids(cs), ids(want)) {
			t.Errorf("Latest(%d) = %v, %v; want %v", n, ids(cs), err, ids(want))
		}
	}
	if cs, _ := s.Latest("demo2", 5); len(cs) != 1 || cs[0] != other {
		t.Errorf("Latest(demo2) = %v", cs)
	}
	if cs, _ := s.Latest("nope", 5); len(cs) != 0 {
		t.Errorf("Latest of an unknown stream = %v", cs)
	}
	if _, err := s.Range("de/mo", Cursor{}, 10); !errors.Is(err, ErrBadStream) {
		t.Errorf("Range of an invalid stream name: %v, want ErrBadStream", err)
	}
	// "demo" must not see "demo2" (a prefix of the key, not of the stream).
	if n, _ := s.Count("demo"); n != 50 {
		t.Errorf("Count(demo) = %d, want 50", n)
	}
}

func TestDeleteTombstone(t *testing.T) {
	s := openTest(t, StoreParams{})
	ctx := testCtx(t, 10*time.Second)
	a := mk("demo", "ann", "spam", 1000, 0, 1)
	late := mk("demo", "ann", "more spam", 1001, 0, 2)
	keep := mk("demo", "bob", "fine", 1002, 0, 3)
	mustPut(t, s, []Comment{a, keep}, 2)

	removed, err := s.Delete(ctx, "demo", a.ID, Timestamp{2000, 0})
	if err != nil || !removed {
		t.Fatalf("Delete = %v, %v; want true", removed, err)
	}
	if s.Has(a.ID) || !s.Deleted(a.ID) {
		t.Fatalf("after Delete: Has = %v, Deleted = %v", s.Has(a.ID), s.Deleted(a.ID))
	}
	// A tombstone for a comment not seen yet: its late replica is dropped.
	removed, err = s.Delete(ctx, "demo", late.ID, Timestamp{2001, 0})
	if err != nil || removed {
		t.Fatalf("Delete unseen = %v, %v; want false, nil", removed, err)
	}
	mustPut(t, s, []Comment{a, late, keep}, 0)
	if cs, _ := s.Range("demo", Cursor{}, 10); !slices.Equal(ids(cs), []string{keep.ID}) {
		t.Fatalf("Range after deletes = %v, want only %s", ids(cs), keep.ID)
	}
	// Another stream's moderator cannot delete it.
	if _, err := s.Delete(ctx, "other", keep.ID, Timestamp{2002, 0}); !errors.Is(err, ErrWrongStream) {
		t.Fatalf("Delete from wrong stream: %v, want ErrWrongStream", err)
	}
	if !s.Has(keep.ID) {
		t.Fatalf("wrong-stream Delete removed the comment")
	}
	if _, err := s.Delete(ctx, "demo", "not-an-id", Timestamp{}); !errors.Is(err, ErrBadID) {
		t.Fatalf("Delete with a bad ID: %v, want ErrBadID", err)
	}
}

func TestDeleteAndPutInOneGroup(t *testing.T) {
	s, err := Open(StoreParams{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	// Queue before starting, so the writer commits them as one group.
	c := mk("demo", "ann", "x", 1000, 0, 1)
	ctx := testCtx(t, 10*time.Second)
	put := &op{kind: opPut, comments: []Comment{c}, done: make(chan result, 1)}
	del := &op{kind: opDelete, stream: "demo", key: c.ID, at: Timestamp{2000, 0}, done: make(chan result, 1)}
	again := &op{kind: opPut, comments: []Comment{c}, done: make(chan result, 1)}
	s.queue <- put
	s.queue <- del
	s.queue <- again
	s.Start(ctx)
	if r := <-put.done; r.err != nil || r.n != 1 {
		t.Fatalf("put: %+v", r)
	}
	if r := <-del.done; r.err != nil || r.n != 1 {
		t.Fatalf("delete: %+v", r)
	}
	if r := <-again.done; r.err != nil || r.n != 0 {
		t.Fatalf("put after delete: %+v, want 0 added", r)
	}
	if s.Has(c.ID) {
		t.Fatalf("deleted comment stored")
	}
}

func TestBan(t *testing.T) {
	s := openTest(t, StoreParams{})
	ctx := testCtx(t, 10*time.Second)
	if err := s.Ban(ctx, "demo", "troll", Timestamp{5000, 1}); err != nil {
		t.Fatal(err)
	}
	if !s.Banned("demo", "troll") || s.Banned("demo2", "troll") || s.Banned("demo", "ann") {
		t.Fatalf("Banned wrong")
	}
	bans, err := s.Bans("demo")
	want := []Ban{{Stream: "demo", Author: "troll", At: Timestamp{5000, 1}}}
	if err != nil || !slices.Equal(bans, want) {
		t.Fatalf("Bans = %v, %v; want %v", bans, err, want)
	}
	if err := s.Ban(ctx, "demo", "bad\x01", Timestamp{}); !errors.Is(err, ErrControlChar) {
		t.Fatalf("Ban with an invalid author: %v", err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(StoreParams{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	ctx := testCtx(t, 10*time.Second)
	var cs []Comment
	for i := range 20 {
		cs = append(cs, mk("demo", "ann", fmt.Sprint("c", i), 1000+int64(i), 0, uint64(i)))
	}
	if _, err := s.Put(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "demo", cs[0].ID, Timestamp{3000, 0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Ban(ctx, "demo", "troll", Timestamp{3000, 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, cs); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Range("demo", Cursor{}, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Range after Close: %v, want ErrClosed", err)
	}

	s2 := openTest(t, StoreParams{Dir: dir})
	got, err := s2.Range("demo", Cursor{}, 100)
	if err != nil || !slices.Equal(ids(got), ids(cs[1:])) {
		t.Fatalf("after reopen: Range = %v, %v", ids(got), err)
	}
	if !s2.Deleted(cs[0].ID) || !s2.Banned("demo", "troll") {
		t.Fatalf("after reopen: tombstone %v, ban %v", s2.Deleted(cs[0].ID), s2.Banned("demo", "troll"))
	}
	mustPut(t, s2, cs, 0)
}

func TestPutBlocksWhenQueueFull(t *testing.T) {
	s, err := Open(StoreParams{Dir: t.TempDir(), QueueSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	first := &op{kind: opPut, comments: []Comment{mk("demo", "ann", "first", 1000, 0, 1)}, done: make(chan result, 1)}
	s.queue <- first // the queue is now full and no writer runs yet

	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	second := mk("demo", "ann", "second", 1001, 0, 2)
	if n, err := s.Put(short, []Comment{second}); !errors.Is(err, context.DeadlineExceeded) || n != 0 {
		t.Fatalf("Put into a full queue = %d, %v; want DeadlineExceeded", n, err)
	}
	s.Start(testCtx(t, 10*time.Second))
	if r := <-first.done; r.err != nil || r.n != 1 {
		t.Fatalf("queued put: %+v", r)
	}
	mustPut(t, s, []Comment{second}, 1)
	if n, _ := s.Count("demo"); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
}

func TestStartContextStopsWriter(t *testing.T) {
	s, err := Open(StoreParams{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	s.Start(ctx)
	mustPut(t, s, []Comment{mk("demo", "ann", "a", 1000, 0, 1)}, 1)
	cancel()
	<-s.exited
	if _, err := s.Put(testCtx(t, 10*time.Second), []Comment{mk("demo", "ann", "b", 1000, 0, 2)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after the writer's ctx ended: %v, want ErrClosed", err)
	}
}

func TestConcurrentPutsGroupCommit(t *testing.T) {
	s := openTest(t, StoreParams{})
	const writers, each = 32, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				c := mk("demo", fmt.Sprint("u", w), fmt.Sprint("c", i), 1000+int64(i), uint32(w), uint64(w*each+i))
				n, err := s.Put(context.Background(), []Comment{c, c})
				if err != nil || n != 1 {
					errs <- fmt.Errorf("writer %d: Put = %d, %v", w, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, _ := s.Count("demo"); n != writers*each {
		t.Fatalf("Count = %d, want %d", n, writers*each)
	}
}

func TestOpenParams(t *testing.T) {
	for _, p := range []StoreParams{{}, {Dir: t.TempDir(), QueueSize: -1}, {Dir: t.TempDir(), MaxBatch: -1}} {
		if _, err := Open(p); !errors.Is(err, ErrParams) {
			t.Errorf("Open(%+v) = %v, want ErrParams", p, err)
		}
	}
}
