package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"
)

// TestRun runs the whole benchmark briefly against real nginx and wrk and
// checks both servers answered every request without errors.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cfg, err := parseFlags([]string{"-count", "3", "-size", "64KiB", "-duration", "1s", "-connections", "4", "-threads", "1", "-cases", "segment,playlist", "-json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, cfg, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if len(r.Rows) != 4 || len(r.Cases) != 2 {
		t.Fatalf("%d rows, %d cases; want 4, 2", len(r.Rows), len(r.Cases))
	}
	for _, row := range r.Rows {
		if row.Requests == 0 || row.ReqSec <= 0 || row.Errors != 0 {
			t.Errorf("%s on %s: %d requests, %.1f/s, %d errors", row.Case, row.Server, row.Requests, row.ReqSec, row.Errors)
		}
	}
	if r.Cases[0].Case != "segment" || r.Cases[0].BodyBytes != 64<<10 || r.Cases[0].Ratio <= 0 {
		t.Errorf("segment case %+v", r.Cases[0])
	}
}
