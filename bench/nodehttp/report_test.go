package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	rows := []row{
		{Case: "segment", Server: "node", Run: 1, BodyBytes: 1 << 20, ReqSec: 900, MiBSec: 900},
		{Case: "segment", Server: "nginx", Run: 1, BodyBytes: 1 << 20, ReqSec: 1000, MiBSec: 1000},
		{Case: "segment", Server: "nginx", Run: 2, BodyBytes: 1 << 20, ReqSec: 1200, MiBSec: 1200},
		{Case: "segment", Server: "node", Run: 2, BodyBytes: 1 << 20, ReqSec: 1100, MiBSec: 1100},
		{Case: "small", Server: "node", Run: 1, BodyBytes: 4096, ReqSec: 5000, MiBSec: 20},
		{Case: "small", Server: "nginx", Run: 1, BodyBytes: 4096, ReqSec: 10000, MiBSec: 40},
		{Case: "playlist", Server: "node", Run: 1, ReqSec: 900, Errors: 3},
		{Case: "playlist", Server: "nginx", Run: 1, ReqSec: 1000},
	}
	got := summarize(rows, 0.8)
	want := []struct {
		name  string
		node  float64
		nginx float64
		ratio float64
		pass  bool
	}{
		{"segment", 1000, 1100, 1000.0 / 1100, true},
		{"small", 5000, 10000, 0.5, false},
		{"playlist", 900, 1000, 0.9, false}, // errors fail it
	}
	if len(got) != len(want) {
		t.Fatalf("%d cases, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Case != w.name || g.NodeReqSec != w.node || g.NginxReqSec != w.nginx || g.Ratio != w.ratio || g.Pass != w.pass {
			t.Errorf("case %d: %+v, want %+v", i, g, w)
		}
	}
}

func TestSummaryLine(t *testing.T) {
	s := caseSummary{Case: "segment", BodyBytes: 1 << 20, NodeReqSec: 900, NginxReqSec: 1000, NodeMiBSec: 900.4, NginxMiBSec: 1000.4, Ratio: 0.9, Target: 0.8, Pass: true}
	want := "nodehttp segment (1.00 MiB): node 900 req/s 900.4 MiB/s, nginx 1000 req/s 1000.4 MiB/s, node/nginx 0.90× — PASS (target ≥ 0.80×)"
	if got := summaryLine(s); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	s.Pass, s.Errors = false, 2
	if got := summaryLine(s); !strings.Contains(got, "MISS") || !strings.Contains(got, "2 errors") {
		t.Fatalf("miss line: %s", got)
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, []row{{Case: "small", Server: "nginx", Run: 1, BodyBytes: 4096, ReqSec: 12345.67, MiBSec: 48.2, P50MS: 0.5, P99MS: 2.25}})
	out := b.String()
	for _, want := range []string{"case     body  server  run    req/s  MiB/s", "small  4.0 KiB   nginx    1  12345.7   48.2  0.50ms  2.25ms       0"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
