package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var errProc = errors.New("unexpected /proc contents")

// cpuSelf is the CPU time (user + system) this process has used.
func cpuSelf() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// cpuOf is the CPU time (user + system) process pid has used, from
// /proc/<pid>/stat (clock ticks of 1/100 s, Linux's USER_HZ).
func cpuOf(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(data)
}

func parseStatCPU(stat []byte) (time.Duration, error) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat without a command name", errProc)
	}
	f := strings.Fields(s[i+1:])
	// After "pid (comm)": state is field 3, utime 14 and stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields", errProc, len(f)+2)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: stat utime/stime", errProc)
	}
	return time.Duration(ut+st) * (time.Second / 100), nil
}

// rssSelf is this process's resident set in bytes (VmRSS).
func rssSelf() (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	return parseVmRSS(data)
}

func parseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: %q", errProc, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q", errProc, sc.Text())
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%w: no VmRSS line", errProc)
}

// loadAvg is the machine's 1-minute load average, "?" if unknown.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

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

// startCPUProfile profiles into path until the returned function is called;
// an empty path profiles nothing.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
