package proto

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FileName returns the segment's file name: "<Sequence>.m4s" for a media
// segment, "init-<Sequence>.mp4" for an init segment (whose Sequence is its
// discontinuity number). Numbers are decimal without leading zeros. An
// unknown kind yields "".
func (s Segment) FileName() string {
	switch s.Kind {
	case KindMedia:
		return strconv.FormatUint(s.Sequence, 10) + ".m4s"
	case KindInit:
		return "init-" + strconv.FormatUint(s.Sequence, 10) + ".mp4"
	}
	return ""
}

// ParseFileName is the inverse of FileName: it returns the kind and the
// sequence number (the discontinuity number for init segments). It rejects,
// with ErrBadFileName, anything FileName would not produce: leading zeros,
// signs, empty numbers, numbers that overflow (uint64 for media, uint32 for
// init), other extensions and paths.
func ParseFileName(name string) (SegmentKind, uint64, error) {
	kind, digits, limit := KindMedia, "", uint64(math.MaxUint64)
	switch {
	case strings.HasPrefix(name, "init-") && strings.HasSuffix(name, ".mp4"):
		// The prefix and suffix cannot overlap ("init-" has no '.').
		kind, digits, limit = KindInit, name[len("init-"):len(name)-len(".mp4")], math.MaxUint32
	case strings.HasSuffix(name, ".m4s"):
		digits = strings.TrimSuffix(name, ".m4s")
	default:
		return 0, 0, fmt.Errorf("%w: %q", ErrBadFileName, name)
	}
	n, ok := parseDecimal(digits)
	if !ok || n > limit {
		return 0, 0, fmt.Errorf("%w: %q", ErrBadFileName, name)
	}
	return kind, n, nil
}

// parseDecimal parses a canonical unsigned decimal: only ASCII digits, no
// leading zero unless the number is "0", no overflow.
func parseDecimal(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
