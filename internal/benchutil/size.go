package benchutil

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSize is wrapped by every ParseSize error.
var ErrSize = errors.New("bad size")

// ParseSize reads a byte count such as "64KiB", "1 MiB", "1.5MB", "4k" or
// "4096" and checks it lies in 1..max bytes.
func ParseSize(s string, max int) (int, error) {
	units := []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1000_000}, {"k", 1 << 10}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}}
	mult, num := 1, strings.TrimSpace(s)
	for _, u := range units {
		if v, ok := strings.CutSuffix(num, u.suffix); ok {
			mult, num = u.mult, strings.TrimSpace(v)
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n*float64(mult) < 1 || n*float64(mult) > float64(max) {
		return 0, fmt.Errorf("%w: %q (1 B to %d B)", ErrSize, s, max)
	}
	return int(n * float64(mult)), nil
}
