package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// variant is one EXT-X-STREAM-INF of a multivariant playlist.
type variant struct {
	Attrs     string // the attribute list as written (after the colon)
	URI       string
	Bandwidth int64
	Name      string // rendition name: the URI's directory ("144p" for "144p/index.m3u8")
}

// parseMaster reads the variants of a multivariant playlist.
func parseMaster(b []byte) ([]variant, error) {
	var out []variant
	var pending *variant
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXT-X-STREAM-INF:"):
			attrs := strings.TrimPrefix(line, "#EXT-X-STREAM-INF:")
			v := variant{Attrs: attrs}
			if bw, ok := attrValue(attrs, "BANDWIDTH"); ok {
				v.Bandwidth, _ = strconv.ParseInt(bw, 10, 64)
			}
			pending = &v
		case line == "" || strings.HasPrefix(line, "#"):
		case pending != nil:
			pending.URI = line
			pending.Name, _, _ = strings.Cut(line, "/")
			out = append(out, *pending)
			pending = nil
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no variants", ErrPlaylist)
	}
	return out, nil
}

// attrValue finds KEY=value in an attribute list (unquoted values only,
// enough for BANDWIDTH).
func attrValue(attrs, key string) (string, bool) {
	for _, f := range strings.Split(attrs, ",") {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// maxSegmentSeconds bounds target and segment durations a playlist may
// declare: beyond an hour the value is garbage (and would overflow
// time.Duration arithmetic further on).
const maxSegmentSeconds = 3600

// mediaSegment is one segment of a media playlist.
type mediaSegment struct {
	Seq      uint64
	Duration time.Duration
	PDT      time.Time
	URI      string
	Map      string // EXT-X-MAP URI in force
}

// mediaPlaylist is a parsed live media playlist.
type mediaPlaylist struct {
	Target   time.Duration
	Segments []mediaSegment
	Ended    bool
}

// parseMedia reads what the player uses from a media playlist.
func parseMedia(b []byte) (mediaPlaylist, error) {
	var p mediaPlaylist
	var seq uint64
	var dur time.Duration
	var pdt time.Time
	var mapURI string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXT-X-TARGETDURATION:"):
			n, err := strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-TARGETDURATION:"))
			if err != nil || n <= 0 || n > maxSegmentSeconds {
				return p, fmt.Errorf("%w: %q", ErrPlaylist, line)
			}
			p.Target = time.Duration(n) * time.Second
		case strings.HasPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"):
			n, err := strconv.ParseUint(strings.TrimPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"), 10, 64)
			if err != nil {
				return p, fmt.Errorf("%w: %q", ErrPlaylist, line)
			}
			seq = n
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			rest := strings.TrimPrefix(line, "#EXT-X-MAP:")
			if _, after, ok := strings.Cut(rest, `URI="`); ok {
				mapURI, _, _ = strings.Cut(after, `"`)
			}
		case strings.HasPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"):
			t, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"))
			if err != nil {
				return p, fmt.Errorf("%w: %q", ErrPlaylist, line)
			}
			pdt = t
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0 && f <= maxSegmentSeconds) { // also refuses NaN
				return p, fmt.Errorf("%w: %q", ErrPlaylist, line)
			}
			dur = time.Duration(f * float64(time.Second))
		case line == "#EXT-X-ENDLIST":
			p.Ended = true
		case line == "" || strings.HasPrefix(line, "#"):
		default:
			p.Segments = append(p.Segments, mediaSegment{Seq: seq, Duration: dur, PDT: pdt, URI: line, Map: mapURI})
			seq++
			pdt = pdt.Add(dur)
		}
	}
	if p.Target <= 0 {
		return p, fmt.Errorf("%w: no target duration", ErrPlaylist)
	}
	return p, nil
}
