package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunSim(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "sim.json")
	var out, errOut bytes.Buffer
	err := runSim(context.Background(), []string{"-preset", "loadgen-local", "-viewers", "120", "-duration", "40s",
		"-json", jsonPath, "-charts", filepath.Join(dir, "charts")}, &out, &errOut)
	if err != nil {
		t.Fatalf("runSim: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "egress/bound") {
		t.Errorf("summary lacks egress/bound:\n%s", out.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Config struct {
			Viewers, Relays int
			Pages           string
			BitrateMbps     float64
		}
		Run struct{ RelayPeerShare float64 }
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	// The flag beats the preset; the rest is the preset's.
	if res.Config.Viewers != 120 || res.Config.Relays != 4 || res.Config.Pages != "relays" || res.Config.BitrateMbps != 0.328 {
		t.Errorf("config %+v", res.Config)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "charts", "share.svg"))
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Fatalf("share.svg: %v", err)
	}
}

func TestRunSimBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-preset", "nope"}, {"-viewer-upload", "uniform:5M-1M"}, {"-rendition", "4k"}, {"-mode", "slow"}} {
		var out, errOut bytes.Buffer
		if err := runSim(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
