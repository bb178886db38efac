package transcode

import (
	"fmt"
	"math"
	"strconv"
)

// Rung is one rendition of the ladder.
type Rung struct {
	Name          string // rendition name, e.g. "1080p"
	Width, Height int    // Height is authoritative; Plan recomputes Width from the source aspect (even)
	VideoBitrate  int    // bits per second (ignored for passthrough)
	Passthrough   bool   // copy the source video instead of encoding
}

// Source describes the published video as the ingest saw it.
type Source struct {
	Width, Height int
	FPS           float64
	HasAudio      bool
}

// DefaultLadder returns the default 4-rung ladder (widths are for 16:9; Plan
// recomputes them from the source aspect).
//
// The bitrates are for H.264 at x264 "veryfast" and 30 fps, in line with the
// usual live ladders (Apple's HLS authoring guide lists ~6 Mb/s for 1080p,
// ~3-4.5 Mb/s for 720p, ~1-2 Mb/s for 432p-540p; Twitch-style ladders use
// 4.5-6 Mb/s for 1080p and 2.5-3 Mb/s for 720p):
//   - 1080p 5000 kb/s: clean for talking heads and slides, a little soft on
//     fast motion; most home uplinks of relay volunteers can still carry it;
//   - 720p 2800 kb/s: the rung most viewers settle on;
//   - 480p 1200 kb/s: phones and busy Wi-Fi;
//   - 144p 200 kb/s: the "keep playing, keep the audio" floor for very bad
//     links (the AAC audio copied into every rung adds ~64-160 kb/s).
//
// Each rung is a little under half of the one above, so an ABR player has a
// step to fall back to at each halving of the throughput.
func DefaultLadder() []Rung {
	return []Rung{
		{Name: "1080p", Width: 1920, Height: 1080, VideoBitrate: 5_000_000},
		{Name: "720p", Width: 1280, Height: 720, VideoBitrate: 2_800_000},
		{Name: "480p", Width: 854, Height: 480, VideoBitrate: 1_200_000},
		{Name: "144p", Width: 256, Height: 144, VideoBitrate: 200_000},
	}
}

// validate checks the source for Plan and BuildArgs.
func (s Source) validate() error {
	if s.Width <= 0 || s.Height <= 0 {
		return fmt.Errorf("%w: size %dx%d", ErrBadSource, s.Width, s.Height)
	}
	if math.IsNaN(s.FPS) || math.IsInf(s.FPS, 0) || s.FPS <= 0 || s.FPS > 1000 {
		return fmt.Errorf("%w: frame rate %v", ErrBadSource, s.FPS)
	}
	return nil
}

// evenWidth returns the source aspect times height, rounded to an even number (at least 2).
func evenWidth(src Source, height int) int {
	w := float64(src.Width) * float64(height) / float64(src.Height)
	e := int(math.Round(w/2)) * 2
	if e < 2 {
		e = 2
	}
	return e
}

// Plan resolves a ladder for a source. It never upscales: rungs taller than
// the source are dropped. Widths are recomputed from the source aspect ratio
// (rounded to even). With passthrough, the first rung is a copy of the source
// named "{H}p" with the source size, and encoded rungs at least as tall as the
// source are dropped. The order of the remaining rungs is kept. Plan returns
// ErrBadSource for an unusable source and ErrBadLadder for an invalid ladder
// or an empty result.
func Plan(ladder []Rung, src Source, passthrough bool) ([]Rung, error) {
	if err := src.validate(); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(ladder)+1)
	var out []Rung
	if passthrough {
		name := strconv.Itoa(src.Height) + "p"
		out = append(out, Rung{Name: name, Width: src.Width, Height: src.Height, Passthrough: true})
		seen[name] = true
	}
	for _, r := range ladder {
		switch {
		case r.Name == "":
			return nil, fmt.Errorf("%w: rung without a name", ErrBadLadder)
		case r.Passthrough:
			return nil, fmt.Errorf("%w: rung %q: ask for passthrough with Plan's argument, not in the ladder", ErrBadLadder, r.Name)
		case r.Height <= 0 || r.Height%2 != 0:
			return nil, fmt.Errorf("%w: rung %q: height %d (must be even and positive for 4:2:0)", ErrBadLadder, r.Name, r.Height)
		case r.VideoBitrate <= 0:
			return nil, fmt.Errorf("%w: rung %q: bitrate %d", ErrBadLadder, r.Name, r.VideoBitrate)
		}
		if r.Height > src.Height || (passthrough && r.Height >= src.Height) {
			continue
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("%w: duplicate rung name %q", ErrBadLadder, r.Name)
		}
		seen[r.Name] = true
		r.Width = evenWidth(src, r.Height)
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no rung fits a %dx%d source", ErrBadLadder, src.Width, src.Height)
	}
	return out, nil
}
