package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

var errWrkOutput = errors.New("unrecognised wrk output")

// wrkResult is what one wrk run reports.
type wrkResult struct {
	Requests    int64         `json:"requests"`
	Duration    time.Duration `json:"-"`
	BytesRead   float64       `json:"bytes_read"`
	RequestsSec float64       `json:"requests_per_sec"`
	BytesSec    float64       `json:"bytes_per_sec"`
	LatencyAvg  time.Duration `json:"-"`
	LatencyMax  time.Duration `json:"-"`
	// Percentiles of the latency distribution (--latency): 50, 75, 90, 99.
	Percentiles map[int]time.Duration `json:"-"`
	// Socket errors and non-2xx/3xx responses; all zero in a clean run.
	ConnectErrors, ReadErrors, WriteErrors, Timeouts int64
	Non2xx                                           int64
}

// errors returns the number of failed requests or sockets.
func (r wrkResult) errors() int64 {
	return r.ConnectErrors + r.ReadErrors + r.WriteErrors + r.Timeouts + r.Non2xx
}

// parseWrk parses the text wrk 4 prints with --latency.
func parseWrk(out string) (wrkResult, error) {
	r := wrkResult{Percentiles: map[int]time.Duration{}}
	var haveRPS, haveTotal bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		var err error
		switch {
		case len(f) == 0:
		case f[0] == "Requests/sec:" && len(f) == 2:
			r.RequestsSec, err = strconv.ParseFloat(f[1], 64)
			haveRPS = err == nil
		case f[0] == "Transfer/sec:" && len(f) == 2:
			r.BytesSec, err = parseBytes(f[1])
		case f[0] == "Latency" && len(f) >= 4:
			if r.LatencyAvg, err = parseWrkDuration(f[1]); err == nil {
				r.LatencyMax, err = parseWrkDuration(f[3])
			}
		case len(f) == 2 && strings.HasSuffix(f[0], "%"):
			var p float64
			if p, err = strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64); err == nil {
				var d time.Duration
				if d, err = parseWrkDuration(f[1]); err == nil {
					r.Percentiles[int(p)] = d
				}
			}
		case len(f) == 6 && f[1] == "requests" && f[2] == "in" && f[5] == "read":
			if r.Requests, err = strconv.ParseInt(f[0], 10, 64); err != nil {
				break
			}
			if r.Duration, err = parseWrkDuration(strings.TrimSuffix(f[3], ",")); err != nil {
				break
			}
			r.BytesRead, err = parseBytes(f[4])
			haveTotal = err == nil
		case strings.HasPrefix(line, "Socket errors:"):
			err = parseSocketErrors(strings.TrimPrefix(line, "Socket errors:"), &r)
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			r.Non2xx, err = strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "Non-2xx or 3xx responses:")), 10, 64)
		}
		if err != nil {
			return r, fmt.Errorf("%w: %q: %w", errWrkOutput, line, err)
		}
	}
	if !haveRPS || !haveTotal {
		return r, fmt.Errorf("%w: no Requests/sec or request total", errWrkOutput)
	}
	return r, nil
}

// parseSocketErrors parses " connect 0, read 1, write 0, timeout 2".
func parseSocketErrors(s string, r *wrkResult) error {
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Fields(part)
		if len(f) != 2 {
			return fmt.Errorf("socket errors %q", s)
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return err
		}
		switch f[0] {
		case "connect":
			r.ConnectErrors = n
		case "read":
			r.ReadErrors = n
		case "write":
			r.WriteErrors = n
		case "timeout":
			r.Timeouts = n
		default:
			return fmt.Errorf("socket error kind %q", f[0])
		}
	}
	return nil
}

// parseWrkDuration parses wrk's times: 584.00us, 1.49ms, 2.00s, 1.00m, 1.00h.
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("duration %q", s)
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("duration %q", s)
}

// parseBytes parses wrk's byte counts, which use binary multiples:
// 100.00B, 512.00KB, 797.72MB, 1.56GB, 2.00TB.
func parseBytes(s string) (float64, error) {
	num, ok := strings.CutSuffix(s, "B")
	if !ok {
		return 0, fmt.Errorf("byte count %q", s)
	}
	mult := 1.0
	if n := len(num); n > 0 {
		if i := strings.IndexByte("KMGTP", num[n-1]); i >= 0 {
			num = num[:n-1]
			for range i + 1 {
				mult *= 1024
			}
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("byte count %q", s)
	}
	return v * mult, nil
}

// wrkArgs is wrk's command line for one URL.
func wrkArgs(threads, connections int, d time.Duration, url string) []string {
	return []string{
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(connections),
		"-d", strconv.Itoa(max(int(d.Round(time.Second)/time.Second), 1)) + "s",
		"--latency", url,
	}
}

// runWrk runs wrk and parses its report.
func runWrk(ctx context.Context, wrk string, args []string) (wrkResult, error) {
	out, err := exec.CommandContext(ctx, wrk, args...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w: %s", strings.Join(args, " "), err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return r, fmt.Errorf("%w\n%s", err, out)
	}
	return r, nil
}
