package main

import (
	"math"
	"slices"
	"time"
)

// summary is the distribution of a set of durations.
type summary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted, ascending durations; 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// summarize sorts ds in place and returns its summary in milliseconds.
func summarize(ds []time.Duration) summary {
	slices.Sort(ds)
	s := summary{Count: len(ds)}
	if len(ds) == 0 {
		return s
	}
	s.P50 = ms(percentile(ds, 50))
	s.P99 = ms(percentile(ds, 99))
	s.Max = ms(ds[len(ds)-1])
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
