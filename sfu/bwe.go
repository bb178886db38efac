package sfu

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/logging"
)

// Defaults of APIParams' bandwidth estimation. The initial estimate is
// generous: it puts a new viewer on the best layer a home link usually
// carries (720p at 2.8 Mbit/s × 1.25 headroom), and GCC brings it down
// within a second or two where the link cannot. Started at 1 Mbit/s,
// Chromium viewers on loopback stayed on the low layer for 20 s and more:
// pion's GCC does not probe, and grows the estimate only slowly above what
// is being sent.
const (
	DefaultInitialBitrate = 4_000_000
	DefaultMinBitrate     = 100_000
	DefaultMaxBitrate     = 20_000_000
)

// BandwidthEstimator is a viewer's send-side bandwidth estimate. pion's
// gcc.SendSideBWE (and any cc.BandwidthEstimator) implements it.
type BandwidthEstimator interface {
	// GetTargetBitrate is the estimate in bits per second.
	GetTargetBitrate() int
}

// estimatorKey is the interceptor.Attributes key under which the
// PeerConnection's estimator travels with each RTCP batch to the
// DownTracks that read it.
type estimatorKey struct{}

// bweFactory builds one bweInterceptor per PeerConnection.
type bweFactory struct {
	opts []gcc.Option
}

func (f *bweFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	// A pacer per estimator: it maps the PeerConnection's SSRCs to writers.
	opts := append(f.opts[:len(f.opts):len(f.opts)], gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	est, err := gcc.NewSendSideBWE(opts...)
	if err != nil {
		return nil, fmt.Errorf("sfu: bandwidth estimator: %w", err)
	}
	return &bweInterceptor{est: est}, nil
}

// bweInterceptor runs pion's send-side GCC for one PeerConnection: it
// records every packet sent (with its transport-wide sequence number) and
// feeds the viewer's transport-cc feedback to the estimator, and it hands
// the estimator to whoever reads the RTCP (the DownTracks) in the batch's
// attributes. It uses GCC without its pacer (gcc.NoOpPacer): each
// DownTrack already has a bounded queue and writer, a second queue would
// only add delay, and the sfu adapts the rate by choosing layers, not by
// pacing one layer's packets.
type bweInterceptor struct {
	interceptor.NoOp
	est *gcc.SendSideBWE
}

func (b *bweInterceptor) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(buf []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(buf, a)
		if err != nil {
			return n, a, err
		}
		if a == nil {
			a = make(interceptor.Attributes)
		}
		if pkts, err := a.GetRTCPPackets(buf[:n]); err == nil {
			_ = b.est.WriteRTCP(pkts, a) // fails only once closed
		}
		a.Set(estimatorKey{}, BandwidthEstimator(b.est))
		return n, a, nil
	})
}

func (b *bweInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return b.est.AddStream(info, w)
}

func (b *bweInterceptor) Close() error { return b.est.Close() }

// estimatorFrom returns the estimator an RTCP batch's attributes carry.
func estimatorFrom(a interceptor.Attributes) BandwidthEstimator {
	e, _ := a.Get(estimatorKey{}).(BandwidthEstimator)
	return e
}

func newBWEFactory(p APIParams) *bweFactory {
	initial, lo, hi := p.InitialBitrate, p.MinBitrate, p.MaxBitrate
	if initial == 0 {
		initial = DefaultInitialBitrate
	}
	if lo == 0 {
		lo = DefaultMinBitrate
	}
	if hi == 0 {
		hi = DefaultMaxBitrate
	}
	lf := p.SettingEngine.LoggerFactory
	if lf == nil {
		// pion's default logger would print GCC's per-update Info lines
		// only at its default level (error); keep it explicit.
		lf = logging.NewDefaultLoggerFactory()
	}
	return &bweFactory{opts: []gcc.Option{
		gcc.SendSideBWEInitialBitrate(initial),
		gcc.SendSideBWEMinBitrate(lo),
		gcc.SendSideBWEMaxBitrate(hi),
		gcc.WithLoggerFactory(lf),
	}}
}
