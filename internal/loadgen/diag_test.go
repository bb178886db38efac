package loadgen

import (
	"testing"
	"time"

	"github.com/canopylive/canopy/internal/playrules"
)

func TestStallLog(t *testing.T) {
	v, err := NewViewer(ViewerParams{Shared: &Shared{}, Page: "http://page", Stream: "s"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(5000, 0)
	v.segs[10] = &seg{seq: 10, dur: 2 * time.Second, pdt: t0, loaded: true, src: FromRelayHTTP}
	v.segs[11] = &seg{seq: 11, dur: 2 * time.Second, pdt: t0.Add(2 * time.Second), lead: 300 * time.Millisecond, inflight: playrules.HTTP}
	v.lastSeq = 11
	v.pb = playback{target: 6 * time.Second, slack: time.Hour}
	start := t0.Add(6 * time.Second)
	v.pb.start(start, 10, 0)
	tick := func(d time.Duration) {
		was, seq := v.pb.stalled, v.pb.seq
		v.pb.advance(start.Add(d), v)
		v.noteStall(start.Add(d), was, seq)
	}
	tick(time.Second) // plays
	if len(v.stats.StallLog) != 0 {
		t.Fatalf("stall logged while playing: %+v", v.stats.StallLog)
	}
	tick(3 * time.Second) // runs out at 2 s: waits for 11
	tick(3200 * time.Millisecond)
	if len(v.stats.StallLog) != 1 {
		t.Fatalf("stall log %+v, want one open stall", v.stats.StallLog)
	}
	e := v.stats.StallLog[0]
	if e.Seq != 11 || !e.Listed || e.Lead != 300*time.Millisecond || e.InFlight != "http" || e.Dur != 0 || e.From != "" {
		t.Errorf("open stall %+v", e)
	}
	v.segs[11].loaded, v.segs[11].src = true, FromViewer
	tick(3500 * time.Millisecond)
	e = v.stats.StallLog[0]
	if e.Dur != 500*time.Millisecond || e.From != "viewer" {
		t.Errorf("ended stall: dur %v from %q, want 500ms from viewer", e.Dur, e.From)
	}
	if st := v.Stats(); st.Stalls != 1 || st.StalledNow || len(st.StallLog) != 1 {
		t.Errorf("stats: %d stalls, stalled now %v, log %d", st.Stalls, st.StalledNow, len(st.StallLog))
	}
}
