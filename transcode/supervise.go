package transcode

import (
	"context"
	"time"
)

// supervise waits for each run to end, reports it, and starts the next
// epoch after a backoff unless the transcoder is closing or ctx is done.
func (t *Transcoder) supervise(ctx context.Context, r *run) {
	defer close(t.supDone)
	backoff := t.p.MinBackoff
	for {
		<-r.done
		err := r.result()
		t.mu.Lock()
		if t.cur == r {
			t.cur = nil
		}
		stop := t.closing || ctx.Err() != nil
		t.mu.Unlock()
		t.callEpochEnd(r.epoch, err)
		if stop {
			t.log.Info("ffmpeg finished", "epoch", r.epoch, "err", err)
			return
		}
		ran := t.p.Now().Sub(r.started)
		if ran > stableRun {
			backoff = t.p.MinBackoff
		}
		t.log.Error("ffmpeg died; restarting", "epoch", r.epoch, "pid", r.pid(), "ran", ran.Round(time.Millisecond),
			"err", err, "backoff", backoff)
		t.p.Metrics.restart(t.p.Stream)
		epoch := r.epoch + 1
		for r.epoch != epoch {
			if !t.sleep(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, t.p.MaxBackoff)
			nr, err := t.startRun(epoch)
			if err != nil {
				t.log.Error("could not restart ffmpeg", "epoch", epoch, "err", err, "backoff", backoff)
				continue
			}
			t.callEpochStart(epoch, nr.pid()) // before any input, hence before any output
			t.mu.Lock()
			if !t.closing && ctx.Err() == nil {
				t.cur = nr
			} else {
				nr.kill()
			}
			t.mu.Unlock()
			r = nr // if killed, the next turn reports it and stops
		}
	}
}

// sleep waits d; it reports false when the transcoder closes or ctx ends first.
func (t *Transcoder) sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-t.closeCh:
		return false
	case <-ctx.Done():
		return false
	}
}

// deliver calls OnOutput, surviving a panic in it.
func (t *Transcoder) deliver(o Output) {
	if t.p.OnOutput == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			t.log.Error("OnOutput panicked", "panic", p, "rendition", o.Rendition, "epoch", o.Epoch)
		}
	}()
	t.p.OnOutput(o)
}

func (t *Transcoder) callEpochStart(epoch, pid int) {
	if t.p.OnEpochStart == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			t.log.Error("OnEpochStart panicked", "panic", p, "epoch", epoch)
		}
	}()
	t.p.OnEpochStart(epoch, pid)
}

func (t *Transcoder) callEpochEnd(epoch int, err error) {
	if t.p.OnEpochEnd == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			t.log.Error("OnEpochEnd panicked", "panic", p, "epoch", epoch)
		}
	}()
	t.p.OnEpochEnd(epoch, err)
}
