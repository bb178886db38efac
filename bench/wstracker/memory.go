package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var errNoRSS = errors.New("no VmRSS line")

// memSnap is this process's memory after a full GC.
type memSnap struct {
	heap  uint64 // HeapAlloc: live heap objects
	stack uint64 // StackInuse: goroutine stacks
	rss   int64  // resident set, bytes
}

func selfMem() (memSnap, error) {
	for range 3 { // stacks shrink by half per GC while mostly unused
		runtime.GC()
	}
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := procRSS("self")
	return memSnap{heap: ms.HeapAlloc, stack: ms.StackInuse, rss: rss}, err
}

// procRSS reads VmRSS of /proc/<pid>/status, in bytes.
func procRSS(pid string) (int64, error) {
	data, err := os.ReadFile("/proc/" + pid + "/status")
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
			return 0, fmt.Errorf("%w: %q", errNoRSS, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", errNoRSS, err)
		}
		return kb << 10, nil
	}
	return 0, errNoRSS
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
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

// loadAvg is the machine's 1-minute load average, "?" if unknown.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// cpuSelf is the CPU time (user + system) this process has used.
func cpuSelf() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuOf is the CPU time (user + system) process pid has used, from
// /proc/<pid>/stat (clock ticks of 1/100 s, Linux's USER_HZ).
func cpuOf(pid string) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(data)
}

var errStat = errors.New("bad /proc stat line")

func parseStatCPU(stat []byte) (time.Duration, error) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errStat
	}
	f := strings.Fields(s[i+1:])
	// After "pid (comm)": state is field 3, utime 14 and stime 15.
	if len(f) < 13 {
		return 0, errStat
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errStat
	}
	return time.Duration(ut+st) * (time.Second / 100), nil
}
