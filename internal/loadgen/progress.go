package loadgen

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows a run's progress: a bar on a terminal, a line every ten
// seconds elsewhere.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	label string
	last  time.Duration
}

func newProgress(w io.Writer, tty bool, label string, total time.Duration) *progress {
	p := &progress{w: w, label: label}
	if w != nil && tty {
		p.bar = progressbar.NewOptions64(int64(total/time.Second),
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) update(elapsed time.Duration, active int, t Totals) {
	if p.w == nil {
		return
	}
	status := fmt.Sprintf("%s: %d viewers, relay+peer %.1f%%, p2p %.1f%%, continuity %.2f%%, ttfs p50 %s",
		p.label, active, 100*t.RelayPeerShare, 100*t.P2PShare, 100*t.Continuity, t.TTFSp50.Round(time.Millisecond))
	if p.bar != nil {
		p.bar.Describe(status)
		_ = p.bar.Set64(int64(elapsed / time.Second))
		return
	}
	if elapsed-p.last >= 10*time.Second {
		p.last = elapsed
		fmt.Fprintf(p.w, "[%4.0fs] %s\n", elapsed.Seconds(), status)
	}
}

func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
