package benchutil

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

// ErrProc is wrapped by the errors of the /proc readers.
var ErrProc = errors.New("unexpected /proc contents")

// CPUSelf is the CPU time (user + system) this process has used.
func CPUSelf() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// CPUOf is the CPU time (user + system) process pid ("self" or a number)
// has used, from /proc/<pid>/stat.
func CPUOf(pid string) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	return ParseStatCPU(data)
}

// ParseStatCPU reads utime + stime of a /proc/<pid>/stat line (clock
// ticks of 1/100 s, Linux's USER_HZ).
func ParseStatCPU(stat []byte) (time.Duration, error) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat without a command name", ErrProc)
	}
	f := strings.Fields(s[i+1:])
	// After "pid (comm)": state is field 3, utime 14 and stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields", ErrProc, len(f)+2)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: stat utime/stime", ErrProc)
	}
	return time.Duration(ut+st) * (time.Second / 100), nil
}

// RSSOf is the resident set in bytes (VmRSS) of process pid ("self" or a
// number).
func RSSOf(pid string) (int64, error) {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	return ParseVmRSS(data)
}

// ParseVmRSS reads the VmRSS line of a /proc/<pid>/status, in bytes.
func ParseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: %q", ErrProc, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q", ErrProc, sc.Text())
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%w: no VmRSS line", ErrProc)
}

// LoadAvg is the machine's 1-minute load average, "?" if unknown.
func LoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// StartCPUProfile profiles into path until the returned function is
// called; an empty path profiles nothing.
func StartCPUProfile(path string) (func(), error) {
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
