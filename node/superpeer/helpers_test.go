package superpeer

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startSuperPeer runs a super-peer on loopback with short timings.
func startSuperPeer(t *testing.T, src Source, trackers []string, maxPeers int, tune func(*timing)) (*SuperPeer, *prometheus.Registry) {
	t.Helper()
	return startSuperPeerMax(t, src, trackers, maxPeers, func(sp *SuperPeer) {
		if tune != nil {
			tune(&sp.cfg)
		}
	})
}

// startSuperPeerWith is startSuperPeer with MaxPeers 4 and a hook that may
// change anything before Start.
func startSuperPeerWith(t *testing.T, src Source, trackers []string, mutate func(*SuperPeer)) (*SuperPeer, *prometheus.Registry) {
	t.Helper()
	return startSuperPeerMax(t, src, trackers, 4, mutate)
}

func startSuperPeerMax(t *testing.T, src Source, trackers []string, maxPeers int, mutate func(*SuperPeer)) (*SuperPeer, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	sp, err := New(Params{
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Trackers:   trackers,
		Header:     func(string) http.Header { return http.Header{"X-Canopy-Relay": {"relay-test"}} },
		Source:     src,
		MaxPeers:   maxPeers,
		ICE:        ICE{LoopbackOnly: true},
		Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	sp.cfg.minBackoff, sp.cfg.maxBackoff = 20*time.Millisecond, 200*time.Millisecond
	sp.cfg.minInterval = 100 * time.Millisecond
	if mutate != nil {
		mutate(sp)
	}
	if err := sp.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sp.Close(); err != nil {
			t.Error(err)
		}
	})
	return sp, reg
}

// waitStats polls the super-peer's stats until cond holds.
func waitStats(t *testing.T, sp *SuperPeer, timeout time.Duration, what string, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		st := sp.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stats %+v", what, st)
		}
		<-tick.C
	}
}

func segmentBytes(seq uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(uint64(i)*31 + seq)
	}
	return b
}

func hashOf(t *testing.T, stream, broadcast string, r StreamInfo, i int) string {
	t.Helper()
	id, err := StreamSwarmID(stream, broadcast, r.Renditions[i])
	if err != nil {
		t.Fatal(err)
	}
	return InfoHash(id)
}

// metricValue returns the value of a registered counter.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}
