package transcode

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Progress is one block of ffmpeg's -progress report.
type Progress struct {
	Frame      int64         // frames output so far (first video output)
	FPS        float64       // output frames per second
	OutTime    time.Duration // output timestamp reached; 0 when unknown
	Speed      float64       // out_time / wall time since start, as reported by ffmpeg
	SpeedKnown bool          // false when ffmpeg reported speed=N/A
	DupFrames  int64         // frames duplicated to keep a constant frame rate
	DropFrames int64         // frames dropped
	TotalSize  int64         // bytes written to the first output; -1 when unknown
	End        bool          // progress=end: the last block of the run
}

// maxProgressLine bounds one -progress line; longer lines are an error.
const maxProgressLine = 4096

// ParseProgress reads -progress blocks from r and calls fn for each complete
// one (a block ends with progress=continue or progress=end). It returns nil
// at EOF after progress=end or a clean EOF, and an error wrapping ErrProgress
// for a malformed line. Unknown keys and unparsable values are skipped.
func ParseProgress(r io.Reader, fn func(Progress)) error {
	br := bufio.NewReaderSize(r, maxProgressLine)
	cur := Progress{TotalSize: -1}
	for {
		line, err := readLine(br, maxProgressLine)
		if len(line) > 0 {
			key, value, ok := strings.Cut(strings.TrimSpace(string(line)), "=")
			if !ok {
				return fmt.Errorf("%w: %q", ErrProgress, truncate(string(line), 80))
			}
			if cur.set(strings.TrimSpace(key), strings.TrimSpace(value)) {
				fn(cur)
				cur = Progress{TotalSize: -1}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// set applies one key=value; it reports true when the block is complete.
func (p *Progress) set(key, value string) bool {
	switch key {
	case "frame":
		p.Frame = parseCount(value)
	case "fps":
		p.FPS = parseNonNeg(value)
	case "out_time_us", "out_time_ms": // both are microseconds in ffmpeg 5.x
		if us, err := strconv.ParseInt(value, 10, 64); err == nil && us >= 0 && us <= math.MaxInt64/int64(time.Microsecond) {
			p.OutTime = time.Duration(us) * time.Microsecond
		}
	case "dup_frames":
		p.DupFrames = parseCount(value)
	case "drop_frames":
		p.DropFrames = parseCount(value)
	case "total_size":
		if n, err := strconv.ParseInt(value, 10, 64); err == nil && n >= 0 {
			p.TotalSize = n
		}
	case "speed":
		v := strings.TrimSuffix(strings.TrimSpace(value), "x")
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && f >= 0 {
			p.Speed, p.SpeedKnown = f, true
		} else {
			p.Speed, p.SpeedKnown = 0, false
		}
	case "progress":
		p.End = value == "end"
		return true
	}
	return false
}

func parseCount(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func parseNonNeg(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}

// readLine returns the next line without its end (\n, \r\n or \r). Lines
// longer than limit are cut to limit bytes; the rest is discarded.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var out []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(out) < limit {
			n := min(len(chunk), limit-len(out))
			out = append(out, chunk[:n]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		out = bytes.TrimRight(out, "\r\n")
		return out, err
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
