// Command canopy runs every Canopy role: dev, origin, tracker, node and
// keygen. This package parses flags and wires
// components; it holds no logic of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `canopy: peer-assisted live streaming

Usage:
  canopy dev      [flags]   origin + demo broadcaster in one process, for trying Canopy out
  canopy origin   [flags]   RTMP ingest, transcoding, signed segments, HLS and DASH
  canopy tracker  [flags]   arranges relay nodes into a tree per stream
  canopy node     [flags]   volunteer relay: receives segments down the tree, serves players
  canopy keygen   -out FILE write a new Ed25519 origin key
  canopy loadgen  [flags]   many headless viewers against a deployment (or -local), with a report
  canopy sim      [flags]   simulate an event of 1k to 1M viewers: shares, origin egress, stalls
  canopy version

Run "canopy <command> -h" for the flags of a command. Every flag can also be
set as CANOPY_<FLAG> (e.g. CANOPY_HTTP=:9000) or in the YAML file given with
--config; flags beat the environment, which beats the file.
`

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "canopy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr, getenv)
	case "origin":
		return runOrigin(ctx, args[1:], stdout, stderr, getenv)
	case "tracker":
		return runTracker(ctx, args[1:], stdout, stderr, getenv)
	case "node":
		return runNode(ctx, args[1:], stdout, stderr, getenv)
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "loadgen":
		return runLoadgen(ctx, args[1:], stdout, stderr)
	case "sim":
		return runSim(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "canopy", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
