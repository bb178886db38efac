package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// usage is a CPU-time sample: user+sys of this process and of its waited-for
// children (getrusage RUSAGE_SELF and RUSAGE_CHILDREN), and the busy time of
// the whole machine (/proc/stat), from which the CPU other processes took
// during a run is derived.
type usage struct {
	self, children time.Duration
	machine        time.Duration // all CPUs, non-idle; -1 when /proc/stat is unreadable
}

// userHZ is the unit of /proc/stat (USER_HZ, 100 on every Linux architecture).
const userHZ = 100

// sampleUsage reads the counters. A child counts in RUSAGE_CHILDREN only
// once it has been waited for, so a run is measured between a sample taken
// before its ffmpeg starts and one taken after it was reaped.
func sampleUsage() (usage, error) {
	var s, c syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &s); err != nil {
		return usage{}, fmt.Errorf("getrusage self: %w", err)
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c); err != nil {
		return usage{}, fmt.Errorf("getrusage children: %w", err)
	}
	return usage{self: cpuTime(s), children: cpuTime(c), machine: machineBusy()}, nil
}

func cpuTime(r syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// sub returns the CPU used between an earlier sample and u.
func (u usage) sub(earlier usage) usage {
	d := usage{self: u.self - earlier.self, children: u.children - earlier.children, machine: -1}
	if u.machine >= 0 && earlier.machine >= 0 {
		d.machine = u.machine - earlier.machine
	}
	return d
}

// others is the CPU time the rest of the machine used (never negative:
// /proc/stat ticks are coarser than rusage); -1 when unknown.
func (u usage) others() time.Duration {
	if u.machine < 0 {
		return -1
	}
	return max(u.machine-u.self-u.children, 0)
}

// maxTicks bounds one /proc/stat field (about 350 years per CPU at 100 Hz),
// so that the sum cannot overflow a time.Duration.
const maxTicks = 1 << 40

// machineBusy sums the non-idle fields (user nice system irq softirq steal)
// of the "cpu" line of /proc/stat; -1 when unavailable.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	return parseProcStat(data)
}

// parseProcStat reads the aggregate "cpu" line: user nice system idle iowait
// irq softirq steal ...; it returns -1 when the line is missing or malformed.
func parseProcStat(data []byte) time.Duration {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 9 || f[0] != "cpu" {
			continue
		}
		var busy int64
		for i, v := range f[1:9] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || n > maxTicks {
				return -1
			}
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		return time.Duration(busy) * time.Second / userHZ
	}
	return -1
}
