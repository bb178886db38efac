package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/canopylive/canopy/internal/benchutil"
)

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
	rss, err := benchutil.RSSOf("self")
	return memSnap{heap: ms.HeapAlloc, stack: ms.StackInuse, rss: rss}, err
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

// cpuSelf is the CPU time (user + system) this process has used; 0 if
// unknown.
func cpuSelf() time.Duration {
	d, _ := benchutil.CPUSelf()
	return d
}
