package sfu

import (
	"testing"
	"time"
)

func TestCoalescer(t *testing.T) {
	c := coalescer{interval: 500 * time.Millisecond}
	t0 := time.Unix(100, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	if !c.request(at(0)) {
		t.Fatal("first request not sent")
	}
	for _, ms := range []int{10, 200, 499} {
		if c.request(at(ms)) {
			t.Fatalf("request at %d ms sent inside the interval", ms)
		}
	}
	if c.packet(at(499), false) {
		t.Fatal("pending request sent before the interval passed")
	}
	if !c.packet(at(500), false) {
		t.Fatal("pending request not sent once the interval passed")
	}
	if c.packet(at(2000), false) {
		t.Fatal("request sent twice")
	}
	// A keyframe satisfies a pending request.
	if !c.request(at(2000)) || c.request(at(2100)) {
		t.Fatal("request/suppress sequence wrong")
	}
	c.packet(at(2200), true)
	if c.packet(at(3000), false) {
		t.Fatal("request sent although a keyframe came after it")
	}
	// force ignores the interval.
	c.force(at(3010))
	if c.sent != 4 || c.suppressed != 4 {
		t.Fatalf("sent %d suppressed %d, want 4 and 4", c.sent, c.suppressed)
	}
	if c.request(at(3100)) {
		t.Fatal("force did not restart the interval")
	}
}
