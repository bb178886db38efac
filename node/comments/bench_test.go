package comments

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// benchWriters is how many goroutines Put concurrently.
const benchWriters = 64

// BenchmarkPut measures durable comments per second with 64 concurrent
// writers, each Put carrying one comment, on an on-disk Badger with
// SyncWrites: first with group commit (the Store's default), then with one
// transaction and fsync per comment (MaxBatch 1) as the peer, and reports
// the ratio between the two measured in this run.
func BenchmarkPut(b *testing.B) {
	var groupRate float64
	for _, bc := range []struct {
		name     string
		maxBatch int
	}{
		{"group-commit", 0},
		{"fsync-per-comment", 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rate, perCommit := benchPut(b, bc.maxBatch)
			b.ReportMetric(rate, "comments/s")
			b.ReportMetric(perCommit, "comments/fsync")
			if bc.maxBatch == 0 {
				groupRate = rate
			} else if groupRate > 0 {
				b.ReportMetric(groupRate/rate, "group-commit-x")
			}
		})
	}
}

func benchPut(b *testing.B, maxBatch int) (rate, perCommit float64) {
	s, err := Open(StoreParams{Dir: b.TempDir(), MaxBatch: maxBatch})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx)
	defer func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	}()
	var seq atomic.Uint64
	text := "a typical live chat comment, about sixty characters long..."
	wall := time.Now().UnixMilli()
	// RunParallel starts parallelism*GOMAXPROCS goroutines.
	b.SetParallelism(max(1, benchWriters/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			c := mk("demo", fmt.Sprint("u", i%1000), text, wall+int64(i/1000), uint32(i%1000), i)
			if n, err := s.Put(ctx, []Comment{c}); err != nil || n != 1 {
				b.Errorf("Put = %d, %v", n, err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	commits := s.commits.Load()
	return float64(b.N) / elapsed.Seconds(), float64(b.N) / float64(max(commits, 1))
}
