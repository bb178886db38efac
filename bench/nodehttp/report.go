package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// row is one wrk run against one server.
type row struct {
	Case      string  `json:"case"`
	Server    string  `json:"server"`
	Run       int     `json:"run"`
	BodyBytes int     `json:"body_bytes"`
	ReqSec    float64 `json:"requests_per_sec"`
	MiBSec    float64 `json:"mib_per_sec"` // wrk's Transfer/sec: bodies and headers
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"` // socket errors and non-2xx/3xx
}

func newRow(c benchCase, server string, run int, w wrkResult) row {
	return row{
		Case: c.Name, Server: server, Run: run, BodyBytes: len(c.Body),
		ReqSec: w.RequestsSec, MiBSec: w.BytesSec / (1 << 20),
		P50MS: msOf(w.Percentiles[50]), P99MS: msOf(w.Percentiles[99]),
		Requests: w.Requests, Errors: w.errors(),
	}
}

// caseSummary compares the servers on one case (means over runs).
type caseSummary struct {
	Case        string  `json:"case"`
	BodyBytes   int     `json:"body_bytes"`
	NodeReqSec  float64 `json:"node_requests_per_sec"`
	NginxReqSec float64 `json:"nginx_requests_per_sec"`
	NodeMiBSec  float64 `json:"node_mib_per_sec"`
	NginxMiBSec float64 `json:"nginx_mib_per_sec"`
	Ratio       float64 `json:"ratio"` // node/nginx requests/s
	Target      float64 `json:"target"`
	Pass        bool    `json:"pass"`
	Errors      int64   `json:"errors"`
}

// summarize averages the rows of each case, in first-seen order.
func summarize(rows []row, target float64) []caseSummary {
	var out []caseSummary
	idx := map[string]int{}
	runs := map[string]map[string]int{}
	for _, r := range rows {
		i, ok := idx[r.Case]
		if !ok {
			i = len(out)
			idx[r.Case] = i
			out = append(out, caseSummary{Case: r.Case, BodyBytes: r.BodyBytes, Target: target})
			runs[r.Case] = map[string]int{}
		}
		s := &out[i]
		runs[r.Case][r.Server]++
		s.Errors += r.Errors
		switch r.Server {
		case "node":
			s.NodeReqSec += r.ReqSec
			s.NodeMiBSec += r.MiBSec
		case "nginx":
			s.NginxReqSec += r.ReqSec
			s.NginxMiBSec += r.MiBSec
		}
	}
	for i := range out {
		s := &out[i]
		if n := runs[s.Case]["node"]; n > 0 {
			s.NodeReqSec /= float64(n)
			s.NodeMiBSec /= float64(n)
		}
		if n := runs[s.Case]["nginx"]; n > 0 {
			s.NginxReqSec /= float64(n)
			s.NginxMiBSec /= float64(n)
		}
		if s.NginxReqSec > 0 {
			s.Ratio = s.NodeReqSec / s.NginxReqSec
		}
		s.Pass = s.Ratio >= target && s.Errors == 0
	}
	return out
}

func writeTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tbody\tserver\trun\treq/s\tMiB/s\tp50\tp99\terrors\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.1f\t%.1f\t%.2fms\t%.2fms\t%d\t\n",
			r.Case, human(r.BodyBytes), r.Server, r.Run, r.ReqSec, r.MiBSec, r.P50MS, r.P99MS, r.Errors)
	}
	_ = tw.Flush()
}

// summaryLine is the verdict of one case.
func summaryLine(s caseSummary) string {
	verdict := "MISS"
	if s.Pass {
		verdict = "PASS"
	}
	errs := ""
	if s.Errors > 0 {
		errs = fmt.Sprintf(", %d errors", s.Errors)
	}
	return fmt.Sprintf("nodehttp %s (%s): node %.0f req/s %.1f MiB/s, nginx %.0f req/s %.1f MiB/s, node/nginx %.2f× — %s (target ≥ %.2f×%s)",
		s.Case, human(s.BodyBytes), s.NodeReqSec, s.NodeMiBSec, s.NginxReqSec, s.NginxMiBSec, s.Ratio, verdict, s.Target, errs)
}

// report is the -json output.
type report struct {
	Config map[string]any `json:"config"`
	Rows   []row          `json:"runs"`
	Cases  []caseSummary  `json:"cases"`
}

func jsonConfig(c config) map[string]any {
	return map[string]any{
		"count": c.count, "size": c.size, "small": c.small, "duration_s": c.duration.Seconds(),
		"connections": c.connections, "threads": c.threads, "procs": c.procs, "runs": c.runs, "target": c.target,
	}
}

func writeJSON(w io.Writer, r report) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func human(b int) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
