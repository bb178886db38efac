package sfu

import "testing"

func pushSeqs(r *ring, seqs ...uint16) {
	for _, s := range seqs {
		r.push(&packet{seq: s, payload: []byte{byte(s)}})
	}
}

func TestRingGetAndEviction(t *testing.T) {
	r := newRing(4)
	if r.get(0) != nil {
		t.Fatal("empty ring returned a packet")
	}
	pushSeqs(r, 10, 11, 12, 13)
	for s := uint16(10); s <= 13; s++ {
		if e := r.get(s); e == nil || e.seq != s {
			t.Fatalf("get(%d) = %v", s, e)
		}
	}
	pushSeqs(r, 14, 15) // evicts 10 and 11
	for _, s := range []uint16{10, 11} {
		if r.get(s) != nil {
			t.Errorf("get(%d) after eviction returned a packet", s)
		}
	}
	for _, s := range []uint16{12, 13, 14, 15} {
		if r.get(s) == nil {
			t.Errorf("get(%d) missing", s)
		}
	}
	if r.get(16) != nil {
		t.Error("get of a sequence number never pushed returned a packet")
	}
}

func TestRingWrapAround(t *testing.T) {
	r := newRing(5) // not a power of two: slots must not collide across the wrap
	pushSeqs(r, 65533, 65534, 65535, 0, 1)
	for _, s := range []uint16{65533, 65534, 65535, 0, 1} {
		if e := r.get(s); e == nil || e.seq != s {
			t.Fatalf("get(%d) = %v", s, e)
		}
	}
	pushSeqs(r, 2) // evicts 65533
	if r.get(65533) != nil {
		t.Error("65533 not evicted across the wrap")
	}
	if e := r.get(65534); e == nil || e.seq != 65534 {
		t.Errorf("get(65534) = %v", e)
	}
}

func TestRingGapsJumpsAndLatePackets(t *testing.T) {
	r := newRing(8)
	pushSeqs(r, 100, 101, 104) // 102, 103 lost
	if r.get(102) != nil || r.get(103) != nil {
		t.Fatal("lost packets present")
	}
	pushSeqs(r, 102) // late arrival inside the window
	if e := r.get(102); e == nil || e.seq != 102 {
		t.Fatalf("late packet not stored: %v", e)
	}
	if r.push(&packet{seq: 90}) {
		t.Error("packet older than the window was stored")
	}
	pushSeqs(r, 104+8) // a jump of the window size clears everything older
	for _, s := range []uint16{100, 101, 102, 104} {
		if r.get(s) != nil {
			t.Errorf("get(%d) survived a jump past the window", s)
		}
	}
	if r.get(112) == nil {
		t.Error("newest packet missing after jump")
	}
	// A slot reused after a gap must not answer for the packet it held.
	r2 := newRing(4)
	pushSeqs(r2, 1, 2, 3)
	pushSeqs(r2, 6) // skips 4 and 5; slot of 2 is now 6's
	if r2.get(2) != nil || r2.get(4) != nil || r2.get(5) != nil {
		t.Error("stale or missing sequence numbers answered")
	}
	if r2.get(3) == nil || r2.get(6) == nil {
		t.Error("packets in the window missing")
	}
	r2.reset()
	if r2.get(6) != nil {
		t.Error("reset kept packets")
	}
}
