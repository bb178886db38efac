package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/canopylive/canopy/sfu"
)

// livekitPPSPerCore is LiveKit's published forwarding rate, about 35,000
// packets per second per core. It is cited, not measured here.
const livekitPPSPerCore = 35_000

// kindCounts are one track's counters over the window.
type kindCounts struct {
	viewers       int    // DownTracks bound at the end of the window
	in            uint64 // packets the source wrote
	dropped       uint64 // not queued: a viewer's queue was full
	retransmitted uint64 // sent again after a NACK
	received      uint64 // packets the viewers read
}

// forwarded is the packets the sfu handed to its viewers' senders: every
// packet in to every viewer, less drops, plus retransmissions. (A viewer
// that dropped also skips packets until the next keyframe, which the
// Track does not count; with no drops the figure is exact.)
func (k kindCounts) forwarded() uint64 {
	f := k.in*uint64(k.viewers) + k.retransmitted
	if k.dropped > f {
		return 0
	}
	return f - k.dropped
}

// measurement is one window's deltas.
type measurement struct {
	wall          time.Duration
	serverCPU     time.Duration // the node (this process)
	clientCPU     time.Duration // the load client
	cpus          int
	video, audio  kindCounts
	viewersBefore int       // video DownTracks bound at the start of the window
	receivedBytes uint64    // RTP bytes the viewers read
	expected      uint64    // sequence numbers the viewers' tracks advanced by
	viewerPPS     []float64 // packets/s each viewer read, ascending
	machineBusy   float64   // share of the machine's CPU time busy, 0..1
	udp           udpCounters
}

func newMeasurement(s0, s1 sample, cpus int) measurement {
	m := measurement{
		wall:          s1.at.Sub(s0.at),
		serverCPU:     s1.cpu - s0.cpu,
		clientCPU:     s1.childCPU - s0.childCPU,
		cpus:          cpus,
		video:         counts(s0.video, s1.video),
		audio:         counts(s0.audio, s1.audio),
		viewersBefore: s0.video.Viewers,
		udp: udpCounters{out: s1.udp.out - s0.udp.out, in: s1.udp.in - s0.udp.in,
			rcvbufErrors: s1.udp.rcvbufErrors - s0.udp.rcvbufErrors, sndbufErrors: s1.udp.sndbufErrors - s0.udp.sndbufErrors},
	}
	if dt := s1.machine.total - s0.machine.total; dt > 0 {
		m.machineBusy = float64(s1.machine.busy-s0.machine.busy) / float64(dt)
	}
	c0, c1 := s0.client, s1.client
	for i := range min(len(c0.Video), len(c1.Video), len(c0.Expected), len(c1.Expected)) {
		v, a := c1.Video[i]-c0.Video[i], c1.Audio[i]-c0.Audio[i]
		m.video.received += v
		m.audio.received += a
		m.receivedBytes += c1.Bytes[i] - c0.Bytes[i]
		m.expected += c1.Expected[i] - c0.Expected[i]
		m.viewerPPS = append(m.viewerPPS, float64(v+a)/m.wall.Seconds())
	}
	slices.Sort(m.viewerPPS)
	return m
}

func counts(a, b sfu.TrackStats) kindCounts {
	return kindCounts{viewers: b.Viewers, in: b.PacketsIn - a.PacketsIn, dropped: b.Dropped - a.Dropped,
		retransmitted: b.Retransmitted - a.Retransmitted}
}

func (m measurement) forwarded() uint64 { return m.video.forwarded() + m.audio.forwarded() }
func (m measurement) received() uint64  { return m.video.received + m.audio.received }

func (m measurement) rate(n uint64) float64 {
	if m.wall <= 0 {
		return 0
	}
	return float64(n) / m.wall.Seconds()
}

// cores is the node's CPU use in cores.
func (m measurement) cores() float64 {
	if m.wall <= 0 {
		return 0
	}
	return m.serverCPU.Seconds() / m.wall.Seconds()
}

// ppsPerCore is packets forwarded per second of the node's CPU time: the
// packets per second one fully busy core would forward.
func (m measurement) ppsPerCore() float64 {
	if m.serverCPU <= 0 {
		return 0
	}
	return float64(m.forwarded()) / m.serverCPU.Seconds()
}

// lost is the packets lost between the sfu and the viewers: sequence
// numbers the viewers' tracks advanced by but never read (negative if
// duplicates were read).
func (m measurement) lost() int64 { return int64(m.expected) - int64(m.received()) }

// pct is n as a percentage of total.
func pct(n int64, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// percentile of ascending values, nearest rank; 0 when empty.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// group formats n with thousands separators, rounded to an integer.
func group(n float64) string {
	s := strconv.FormatInt(int64(math.Round(n)), 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Limits of a valid run.
const (
	maxLossPct   = 0.1 // packets lost between the sfu and the viewers
	maxRtxPct    = 1.0 // retransmissions among the packets forwarded
	minSourcePct = 95  // Opus packets written, of one per 20 ms
)

// problems lists why a run's figures are not comparable; none means the
// node kept up and the viewers read what it sent.
func problems(cfg config, r result) []string {
	m := r.m
	var p []string
	if r.ready.Receiving < cfg.viewers {
		p = append(p, fmt.Sprintf("only %d of %d viewers received video", r.ready.Receiving, cfg.viewers))
	}
	if m.viewersBefore != m.video.viewers {
		p = append(p, fmt.Sprintf("viewers bound changed during the window (%d -> %d)", m.viewersBefore, m.video.viewers))
	}
	if want := m.wall.Seconds() / opusInterval.Seconds(); float64(m.audio.in) < want*minSourcePct/100 {
		p = append(p, fmt.Sprintf("the source fell behind (%d of %.0f Opus packets written): the machine is saturated", m.audio.in, want))
	}
	if pct(m.lost(), m.expected) > maxLossPct {
		p = append(p, fmt.Sprintf("the viewers lost %.2f %% of packets on the way (%d UDP receive-buffer drops): the load client or the machine cannot keep up",
			pct(m.lost(), m.expected), m.udp.rcvbufErrors))
	}
	if d := m.video.dropped + m.audio.dropped; d > 0 {
		p = append(p, fmt.Sprintf("the sfu dropped %d packets on full viewer queues", d))
	}
	if rtx := m.video.retransmitted + m.audio.retransmitted; pct(int64(rtx), m.forwarded()) > maxRtxPct {
		p = append(p, fmt.Sprintf("retransmissions are %.1f %% of the packets forwarded", pct(int64(rtx), m.forwarded())))
	}
	return p
}

func report(out io.Writer, cfg config, r result) {
	m, rd := r.m, r.ready
	fmt.Fprintf(out, "viewers: %d of %d receiving video (%d sessions created, %d dials failed, %d connected) %.1f s after the first dial\n",
		rd.Receiving, cfg.viewers, rd.Dialled, rd.Failed, rd.Connected, float64(rd.ConnectMS)/1000)
	for _, e := range rd.Errors {
		fmt.Fprintf(out, "  dial error: %s\n", e)
	}
	if m.viewersBefore != m.video.viewers {
		fmt.Fprintf(out, "  note: viewers bound changed during the window: %d -> %d\n", m.viewersBefore, m.video.viewers)
	}

	w := m.wall.Seconds()
	fmt.Fprintf(out, "\nmeasured over %.2f s (node = this process; viewers = the load client, a child process)\n", w)
	fmt.Fprintf(out, "  %-40s %12s %12s %12s\n", "packets/s", "video", "audio", "total")
	row := func(name string, v, a float64) {
		fmt.Fprintf(out, "  %-40s %12s %12s %12s\n", name, group(v), group(a), group(v+a))
	}
	row("from the source into the sfu", m.rate(m.video.in), m.rate(m.audio.in))
	row("forwarded by the sfu to viewers", m.rate(m.video.forwarded()), m.rate(m.audio.forwarded()))
	row("read by the viewers", m.rate(m.video.received), m.rate(m.audio.received))
	fmt.Fprintf(out, "  %-40s %12d %12d %12d\n", "viewers bound (DownTracks)", m.video.viewers, m.audio.viewers, m.video.viewers+m.audio.viewers)
	fmt.Fprintf(out, "  %-40s %12d %12d %12d\n", "dropped by the sfu (queue full)", m.video.dropped, m.audio.dropped, m.video.dropped+m.audio.dropped)
	fmt.Fprintf(out, "  %-40s %12d %12d %12d\n", "retransmitted by the sfu (NACK)", m.video.retransmitted, m.audio.retransmitted, m.video.retransmitted+m.audio.retransmitted)
	diff := int64(m.forwarded()) - int64(m.received())
	fmt.Fprintf(out, "  lost on the way (sequence gaps at the viewers): %d packets (%.3f %%); forwarded - read: %d (%.3f %%)\n",
		m.lost(), pct(m.lost(), m.expected), diff, pct(diff, m.forwarded()))
	fmt.Fprintf(out, "  packets/s read per viewer, min / median / max: %s / %s / %s\n",
		group(percentile(m.viewerPPS, 0)), group(percentile(m.viewerPPS, 50)), group(percentile(m.viewerPPS, 100)))
	fmt.Fprintf(out, "  egress read by viewers: %.1f Mbit/s of RTP (%.2f Mbit/s per viewer)\n",
		float64(m.receivedBytes)*8/w/1e6, float64(m.receivedBytes)*8/w/1e6/float64(max(1, rd.Receiving)))
	fmt.Fprintf(out, "  machine UDP (whole machine): %s datagrams/s sent, %s received, receive-buffer drops %d, send-buffer drops %d\n",
		group(m.rate(m.udp.out)), group(m.rate(m.udp.in)), m.udp.rcvbufErrors, m.udp.sndbufErrors)
	fmt.Fprintf(out, "  keyframe requests the sfu would send upstream (viewers' PLI/FIR, coalesced): %d\n", r.keyReqs)

	fmt.Fprintf(out, "\nCPU (user+system) over the window, %d CPUs in the machine\n", m.cpus)
	fmt.Fprintf(out, "  node (sfu + pion, this process):  %6.2f s = %.2f cores\n", m.serverCPU.Seconds(), m.cores())
	fmt.Fprintf(out, "  load client (%d viewers):         %6.2f s = %.2f cores\n", rd.Receiving, m.clientCPU.Seconds(), m.clientCPU.Seconds()/w)
	fmt.Fprintf(out, "  machine busy:                      %5.1f %% of %d cores\n", 100*m.machineBusy, m.cpus)
	fmt.Fprintf(out, "  node RSS: %s (%s before the node started; %s per viewer)\n",
		mib(r.rss), mib(r.rssBase), fmt.Sprintf("%.0f KiB", float64(r.rss-r.rssBase)/1024/float64(max(1, m.video.viewers))))
	fmt.Fprintf(out, "  machine load (1-min avg): %s before the run, %s at the end of the window\n", r.loadBefore, r.loadEnd)

	ppc := m.ppsPerCore()
	fmt.Fprintf(out, "\nwhepload: %d viewers, %s packets/s forwarded on %.2f cores: %s packets/s per core (%s Mbit/s per core)\n",
		m.video.viewers, group(m.rate(m.forwarded())), m.cores(), group(ppc),
		group(float64(m.receivedBytes)*8/1e6/max(m.serverCPU.Seconds(), 1e-9)))
	fmt.Fprintf(out, "LiveKit's published figure: ~35,000 packets/s per core (cited, not measured here)\n")
	fmt.Fprintf(out, "ratio canopy/LiveKit: %.2fx (higher is better)\n", ppc/livekitPPSPerCore)
	if p := problems(cfg, r); len(p) > 0 {
		fmt.Fprintf(out, "check: NOT VALID, the figures above are not comparable: %s\n", strings.Join(p, "; "))
	} else {
		fmt.Fprintf(out, "check: valid (every viewer received video; loss <= %.1f %%, no sfu drops, retransmissions <= %.0f %%, source on time)\n",
			maxLossPct, maxRtxPct)
	}
}
