package loadgen

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestAggregate(t *testing.T) {
	vs := []ViewerStats{
		{BytesOrigin: 100, BytesRelayHTTP: 300, BytesRelayP2P: 400, BytesViewer: 200, SegsViewer: 2, SegsOrigin: 1,
			TTFS: time.Second, PlayTime: 99 * time.Second, StallTime: time.Second, Stalls: 1,
			LatencySum: 10 * time.Second, LatencyN: 2, PeersNow: 3},
		{BytesRelayP2P: 1000, TTFS: 3 * time.Second, PlayTime: 100 * time.Second,
			LatencySum: 7 * time.Second, LatencyN: 1, VerifyFailed: 1, PeersNow: 1},
		{Err: "setup failed"}, // never played
	}
	got := Aggregate(vs)
	near := func(name string, a, b float64) {
		if math.Abs(a-b) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, a, b)
		}
	}
	if got.Viewers != 3 || got.BytesOrigin != 100 || got.BytesRelayP2P != 1400 || got.Segments != 3 || got.SegsViewer != 2 {
		t.Errorf("sums: %+v", got)
	}
	near("P2PShare", got.P2PShare, 1600.0/2000)
	near("RelayShare", got.RelayShare, 1700.0/2000)
	near("RelayPeerShare", got.RelayPeerShare, 1900.0/2000)
	near("ViewerShare", got.ViewerShare, 200.0/2000)
	near("Continuity", got.Continuity, 199.0/200)
	if got.TTFSp50 != time.Second || got.TTFSp95 != 3*time.Second || got.NoFirst != 1 {
		t.Errorf("ttfs p50 %v p95 %v none %d", got.TTFSp50, got.TTFSp95, got.NoFirst)
	}
	if got.LatencyMean != 17*time.Second/3 || got.LatencyP50 != 5*time.Second || got.LatencyP95 != 7*time.Second {
		t.Errorf("latency mean %v p50 %v p95 %v", got.LatencyMean, got.LatencyP50, got.LatencyP95)
	}
	if got.Errors != 1 || got.VerifyFailed != 1 || got.Stalls != 1 {
		t.Errorf("errors %d verify %d stalls %d", got.Errors, got.VerifyFailed, got.Stalls)
	}
	near("PeersMean", got.PeersMean, 4.0/3)
	if e := Aggregate(nil); e.Continuity != 1 || e.P2PShare != 0 {
		t.Errorf("empty aggregate: %+v", e)
	}
}

func TestIntervalSample(t *testing.T) {
	prev := Totals{BytesOrigin: 100, BytesRelayP2P: 100}
	cur := Totals{BytesOrigin: 150, BytesRelayP2P: 200, BytesViewer: 50, BytesRelayHTTP: 0}
	s := intervalSample(prev, cur, 2)
	if s.P2PShare != 0.75 || s.RelayPeerShare != 0.75 || s.RelayShare != 0.5 || s.ClientBps != 100 || s.OriginHTTPBps != 25 {
		t.Errorf("sample %+v", s)
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {0.5, 3}, {0.95, 5}, {1, 5}} {
		if got := Percentile(ds, c.p); got != c.want {
			t.Errorf("Percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if Percentile(nil, 0.5) != 0 {
		t.Error("empty percentile not 0")
	}
}

func TestSumMetric(t *testing.T) {
	text := []byte(`# HELP canopy_http_response_bytes_total x
# TYPE canopy_http_response_bytes_total counter
canopy_http_response_bytes_total{route="segment"} 1.5e+06
canopy_http_response_bytes_total{route="media_playlist"} 2500
canopy_http_response_bytes_total_other 99
canopy_http_requests_total{route="segment",code="200"} 7
`)
	got, err := sumMetric(text, originEgressMetric)
	if err != nil || got != 1502500 {
		t.Errorf("sumMetric = %d, %v; want 1502500", got, err)
	}
}

func TestScrapeEgress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`canopy_http_response_bytes_total{route="segment"} 1000
canopy_http_response_bytes_total{route="records"} 24
canopy_node_bytes_forwarded_total 5e+06
canopy_node_frames_forwarded_total 77
`))
	}))
	defer srv.Close()
	got, err := ScrapeEgress(context.Background(), srv.Client(), srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if got.HTTP != 1024 || got.Tree != 5_000_000 || got.Total() != 5_001_024 {
		t.Errorf("ScrapeEgress = %+v, want HTTP 1024, tree 5000000", got)
	}
	if d := got.Sub(Egress{HTTP: 24, Tree: 1_000_000}); d != (Egress{HTTP: 1000, Tree: 4_000_000}) {
		t.Errorf("Sub = %+v", d)
	}
}
