package sfu

import "github.com/pion/rtp"

// runWriter drains the viewer's queue and retransmission queue into its
// sender until stop.
//
// pion's sender writes nothing and reports (0, nil) until its SRTP session
// is up (ICE and DTLS done). A viewer's first keyframe often arrives before
// that, so until the first packet really goes out the writer treats (0, nil)
// as "not ready": it discards what is queued up to the next segment start
// and restarts the viewer at the next keyframe (and for
// one). The viewer thus always receives a keyframe first.
func (s *sink) runWriter() {
	defer s.wg.Done()
	ready, waitStart, loggedErr := false, false, false
	// One header reused for every write (it escapes into the interface
	// call); each write sets all of it.
	hdr := new(rtp.Header)
	for {
		select {
		case <-s.done:
			return
		case q := <-s.rtx:
			*hdr = q.e.header(s.pt, s.ssrc, q.seq, q.ts)
			if n, err := s.w.WriteRTP(hdr, q.e.payload); err == nil && n > 0 {
				s.c.retransmitted.Add(1)
				q.t.retransmitted.Add(1)
			}
		case q := <-s.queue:
			if waitStart && !q.start {
				s.c.skipped.Add(1)
				continue
			}
			waitStart = false
			*hdr = q.e.header(s.pt, s.ssrc, q.seq, q.ts)
			n, err := s.w.WriteRTP(hdr, q.e.payload)
			switch {
			case err != nil:
				s.c.writeErrors.Add(1)
				if !loggedErr {
					loggedErr = true
					s.log.Debug("viewer write failed", "ssrc", s.ssrc, "err", err)
				}
			case n == 0:
				if !ready {
					s.c.skipped.Add(1)
					waitStart = true
					s.requestKeyframe(true)
				}
			default:
				ready = true
				s.c.sent.Add(1)
				s.c.started.Store(true)
			}
		}
	}
}
