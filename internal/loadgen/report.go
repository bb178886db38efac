package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/canopylive/canopy/internal/charts"
)

// WriteJSON writes v as indented JSON to path.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// WriteCharts draws, into dir, the byte shares over time and the origin
// egress over time of every run, and the CDF of time to first segment;
// ext is ".svg" or ".png". It returns the files written.
func WriteCharts(dir, ext string, runs ...Result) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var shares, egress, ttfs charts.Chart
	shares = charts.Chart{Title: "Where viewers' bytes came from", XLabel: "time (s)", YLabel: "share of bytes (%)"}
	egress = charts.Chart{Title: "Origin egress", XLabel: "time (s)", YLabel: "Mbit/s"}
	ttfs = charts.Chart{Title: "Time to first segment (CDF)", XLabel: "seconds", YLabel: "viewers (%)"}
	for _, r := range runs {
		var t, rp, p2p, relay, oe, oc []float64
		for _, s := range r.Samples {
			t = append(t, s.T)
			rp = append(rp, 100*s.RelayPeerShare)
			p2p = append(p2p, 100*s.P2PShare)
			relay = append(relay, 100*s.RelayShare)
			oe = append(oe, s.OriginBps*8/1e6)
			oc = append(oc, s.OriginHTTPBps*8/1e6)
		}
		if r.P2P {
			shares.Series = append(shares.Series,
				charts.Series{Name: r.Label + ": relay + peers", X: t, Y: rp},
				charts.Series{Name: r.Label + ": P2P (relays + viewers)", X: t, Y: p2p},
				charts.Series{Name: r.Label + ": relay nodes (HTTP + P2P)", X: t, Y: relay})
		}
		if r.OriginEgress >= 0 {
			egress.Series = append(egress.Series, charts.Series{Name: r.Label + ": origin /metrics (HTTP + relay tree)", X: t, Y: oe})
		}
		egress.Series = append(egress.Series, charts.Series{Name: r.Label + ": origin HTTP (viewers' count)", X: t, Y: oc})
		var ds []time.Duration
		for _, v := range r.PerViewer {
			if v.TTFS > 0 {
				ds = append(ds, v.TTFS)
			}
		}
		slices.Sort(ds)
		x, y := make([]float64, len(ds)), make([]float64, len(ds))
		for i, d := range ds {
			x[i], y[i] = d.Seconds(), 100*float64(i+1)/float64(len(ds))
		}
		ttfs.Series = append(ttfs.Series, charts.Series{Name: r.Label, X: x, Y: y})
	}
	var files []string
	for name, c := range map[string]charts.Chart{"shares": shares, "origin-egress": egress, "ttfs-cdf": ttfs} {
		if len(c.Series) == 0 {
			continue
		}
		path := filepath.Join(dir, name+ext)
		if err := charts.Write(path, c); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	slices.Sort(files)
	return files, nil
}

// PrintSummary writes a run's headline numbers.
func PrintSummary(w io.Writer, r Result) {
	t := r.Totals
	fmt.Fprintf(w, "%s: %d viewers (%d sessions with churn), %s, P2P %v\n", r.Label, r.Viewers, t.Viewers,
		r.Duration.Round(time.Second), r.P2P)
	all := t.BytesOrigin + t.BytesRelayHTTP + t.BytesRelayP2P + t.BytesViewer
	fmt.Fprintf(w, "  bytes received: %s total; origin HTTP %s, relay HTTP %s, relay P2P %s, viewers P2P %s; uploaded by viewers %s\n",
		mib(all), mib(t.BytesOrigin), mib(t.BytesRelayHTTP), mib(t.BytesRelayP2P), mib(t.BytesViewer), mib(t.BytesUploaded))
	fmt.Fprintf(w, "  relay + peer share %.1f%%  (P2P %.1f%%, relay nodes %.1f%%, viewers %.1f%%)\n",
		100*t.RelayPeerShare, 100*t.P2PShare, 100*t.RelayShare, 100*t.ViewerShare)
	fmt.Fprintf(w, "  continuity %.3f%%  (%d stalls, %s stalled of %s watched; %d live jumps)\n",
		100*t.Continuity, t.Stalls, t.StallTime.Round(time.Millisecond), t.PlayTime.Round(time.Second), t.Jumps)
	fmt.Fprintf(w, "  time to first segment p50 %s, p95 %s (%d sessions without one)\n",
		t.TTFSp50.Round(time.Millisecond), t.TTFSp95.Round(time.Millisecond), t.NoFirst)
	fmt.Fprintf(w, "  live latency mean %s, per-viewer p50 %s, p95 %s\n",
		t.LatencyMean.Round(time.Millisecond), t.LatencyP50.Round(time.Millisecond), t.LatencyP95.Round(time.Millisecond))
	fmt.Fprintf(w, "  verification failures %d, bad records %d, P2P timeouts %d, peers per viewer at end %.1f, errors %d\n",
		t.VerifyFailed, t.BadRecords, t.P2PTimeouts, t.PeersMean, t.Errors)
	if r.OriginEgress >= 0 {
		fmt.Fprintf(w, "  origin egress (its /metrics) %s: HTTP %s + relay tree %s; origin HTTP counted by viewers %s\n",
			mib(r.OriginEgress), mib(r.OriginParts.HTTP), mib(r.OriginParts.Tree), mib(r.OriginClient))
	} else {
		fmt.Fprintf(w, "  origin HTTP counted by viewers %s\n", mib(r.OriginClient))
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
