package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/canopylive/canopy/internal/benchutil"
)

// errProc: what the /proc readers here return, as benchutil's do.
var errProc = benchutil.ErrProc

// cpuTicks are the machine's CPU time counters from /proc/stat.
type cpuTicks struct{ busy, total uint64 }

func machineCPU() (cpuTicks, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTicks{}, err
	}
	return parseProcStat(data)
}

// parseProcStat reads the aggregate "cpu" line: idle and iowait are not
// busy; everything else (user, nice, system, irq, softirq, steal) is.
func parseProcStat(stat []byte) (cpuTicks, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 6 || f[0] != "cpu" {
		return cpuTicks{}, fmt.Errorf("%w: /proc/stat first line %q", errProc, line)
	}
	var t cpuTicks
	for i, s := range f[1:] {
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTicks{}, fmt.Errorf("%w: /proc/stat field %q", errProc, s)
		}
		t.total += v
		if i != 3 && i != 4 { // idle, iowait
			t.busy += v
		}
	}
	return t, nil
}

// udpCounters are the machine's UDP counters from /proc/net/snmp (the
// whole network namespace, not one process).
type udpCounters struct{ out, in, rcvbufErrors, sndbufErrors uint64 }

func machineUDP() (udpCounters, error) {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return udpCounters{}, err
	}
	return parseSNMPUDP(data)
}

// parseSNMPUDP reads the "Udp:" header and value lines.
func parseSNMPUDP(snmp []byte) (udpCounters, error) {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(snmp))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Udp: ")
		if !ok {
			continue
		}
		if names == nil {
			names = strings.Fields(rest)
			continue
		}
		vals := strings.Fields(rest)
		if len(vals) != len(names) {
			return udpCounters{}, fmt.Errorf("%w: Udp lines of %d and %d fields", errProc, len(names), len(vals))
		}
		var u udpCounters
		found := 0
		for i, n := range names {
			var dst *uint64
			switch n {
			case "OutDatagrams":
				dst = &u.out
			case "InDatagrams":
				dst = &u.in
			case "RcvbufErrors":
				dst = &u.rcvbufErrors
			case "SndbufErrors":
				dst = &u.sndbufErrors
			default:
				continue
			}
			v, err := strconv.ParseUint(vals[i], 10, 64)
			if err != nil {
				return udpCounters{}, fmt.Errorf("%w: Udp %s %q", errProc, n, vals[i])
			}
			*dst = v
			found++
		}
		if found != 4 {
			return udpCounters{}, fmt.Errorf("%w: Udp counters missing", errProc)
		}
		return u, nil
	}
	return udpCounters{}, fmt.Errorf("%w: no Udp lines", errProc)
}

func raiseFDLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= uint64(need) {
		return nil
	}
	lim.Cur = min(uint64(need), lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raising the open-file limit: %w", err)
	}
	if lim.Cur < uint64(need) {
		return fmt.Errorf("open-file limit %d is under the %d this run needs", lim.Cur, need)
	}
	return nil
}
