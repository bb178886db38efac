package benchutil

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main is the body of a benchmark command's main function: it parses the
// command line with parse, runs run until it returns, SIGINT/SIGTERM arrive
// or timeout(config) passes, and exits with status 2 for bad flags and 1
// for a failed run, printing the error after name.
func Main[C any](name string, parse func(argv []string, out io.Writer) (C, error),
	timeout func(C) time.Duration, run func(context.Context, C) error) {
	cfg, err := parse(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, timeout(cfg))
	err = run(ctx, cfg)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
