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
			TreeRateMbps    float64
			OriginChildren  int
		}
		Run struct{ RelayPeerShare float64 }
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	// The flag beats the preset; the rest is the preset's.
	// The tree carries the demo's 480p and 144p rungs; loadgen -local puts
	// every relay under the origin.
	if res.Config.Viewers != 120 || res.Config.Relays != 4 || res.Config.Pages != "relays" || res.Config.BitrateMbps != 0.328 ||
		res.Config.TreeRateMbps != 1.656 || res.Config.OriginChildren != 4 {
		t.Errorf("config %+v", res.Config)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "charts", "share.svg"))
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Fatalf("share.svg: %v", err)
	}
}

// TestRunSimWhatIf: what-if flags reach the config and are labelled as
// not the shipped player in the summary; tree flags map to the config
// fields named after origin.relay_children and node.max_children.
func TestRunSimWhatIf(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "sim.json")
	var out, errOut bytes.Buffer
	err := runSim(context.Background(), []string{"-viewers", "60", "-relays", "3", "-duration", "30s",
		"-whatif-sync-segments", "5", "-whatif-no-seeding", "-origin-children", "1", "-relay-children", "2",
		"-pick", "relays-first", "-json", jsonPath}, &out, &errOut)
	if err != nil {
		t.Fatalf("runSim: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "WHAT-IF (not the shipped player)") {
		t.Errorf("summary does not flag the what-if:\n%s", out.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Config struct {
			OriginChildren, RelayChildren int
			Pick                          string
			WhatIf                        struct {
				SyncSegments int
				NoSeeding    bool
			}
		}
		Tree struct{ FirstLevel int }
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	c := res.Config
	if c.OriginChildren != 1 || c.RelayChildren != 2 || c.Pick != "relays-first" || c.WhatIf.SyncSegments != 5 || !c.WhatIf.NoSeeding || res.Tree.FirstLevel != 1 {
		t.Errorf("config %+v, first level %d", c, res.Tree.FirstLevel)
	}
}

func TestRunSimBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-preset", "nope"}, {"-viewer-upload", "uniform:5M-1M"}, {"-rendition", "4k"}, {"-mode", "slow"},
		{"-pick", "nearest"}, {"-origin-children", "65"}, {"-whatif-sync-segments", "-1"}, {"-tree-rate", "1k"},
		{"-renditions", "720p=1,4k=1"}, {"-renditions", "720p"}, {"-renditions", "720p=1", "-rendition", "480p"}, {"-renditions", "720p=1,144p=1", "-tree-rate", "3M"}} {
		var out, errOut bytes.Buffer
		if err := runSim(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestRunSimRenditions: -renditions reaches the config (normalized), the
// summary breaks the mix down and names both bounds, and the tree carries
// the ladder from the mix's top rung.
func TestRunSimRenditions(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "sim.json")
	var out, errOut bytes.Buffer
	err := runSim(context.Background(), []string{"-viewers", "90", "-relays", "2", "-duration", "30s",
		"-renditions", "480p=3,144p=1", "-json", jsonPath}, &out, &errOut)
	if err != nil {
		t.Fatalf("runSim: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"audience mix 480p=0.75,144p=0.25", "aggregate bound", "egress/bound"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Config struct {
			BitrateMbps, TreeRateMbps float64
			Renditions                string
		}
		Renditions []struct {
			Name   string
			Joined int64
		}
		Steady struct{ BoundMbps, BoundAggregateMbps float64 }
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Config.BitrateMbps != 1.328 || res.Config.TreeRateMbps != 1.656 || res.Config.Renditions != "480p=0.75,144p=0.25" ||
		len(res.Renditions) != 2 || res.Renditions[0].Name != "480p" || res.Steady.BoundMbps < 1.656 || res.Steady.BoundAggregateMbps == 0 {
		t.Errorf("result %+v", res)
	}
}
