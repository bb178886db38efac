package origin

import (
	"log/slog"
	"sync"
	"time"

	"github.com/canopylive/canopy/proto"
	"github.com/canopylive/canopy/transcode"
)

// sealer turns transcoder outputs into signed, numbered segments. A segment
// number is given only when every rendition has delivered that fragment of
// the epoch (a column), so sequence N is the same moment in every rendition
// and a column cut short by an ffmpeg crash is dropped whole.
type sealer struct {
	o          *Origin
	b          *broadcast
	log        *slog.Logger
	renditions []string

	mu     sync.Mutex
	epochs map[int]*epochState
}

type epochState struct {
	inits      map[string]transcode.Output
	cols       map[int]map[string]transcode.Output
	next       int // next fragment index to seal
	open       bool
	disc       uint32
	seq0       uint64
	pdt0       time.Time
	start0     time.Duration
	misaligned bool
}

func newSealer(o *Origin, b *broadcast, log *slog.Logger, renditions []string) *sealer {
	return &sealer{o: o, b: b, log: log, renditions: renditions, epochs: map[int]*epochState{}}
}

func (s *sealer) onOutput(out transcode.Output) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep := s.epochs[out.Epoch]
	if ep == nil {
		ep = &epochState{inits: map[string]transcode.Output{}, cols: map[int]map[string]transcode.Output{}}
		s.epochs[out.Epoch] = ep
	}
	if out.Init {
		ep.inits[out.Rendition] = out
	} else {
		col := ep.cols[out.Index]
		if col == nil {
			col = map[string]transcode.Output{}
			ep.cols[out.Index] = col
		}
		col[out.Rendition] = out
	}
	for len(ep.inits) == len(s.renditions) && len(ep.cols[ep.next]) == len(s.renditions) {
		s.sealColumn(ep, ep.cols[ep.next])
		delete(ep.cols, ep.next)
		ep.next++
	}
}

func (s *sealer) onEpochEnd(epoch int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep := s.epochs[epoch]
	delete(s.epochs, epoch)
	if ep != nil && len(ep.cols) > 0 {
		s.log.Info("dropping fragments that not every rendition finished", "epoch", epoch, "fragments", len(ep.cols))
	}
	if err != nil {
		s.log.Warn("ffmpeg exited; restarting after a discontinuity", "epoch", epoch, "err", err)
	}
}

// sealColumn signs, indexes and archives one fragment of every rendition.
// Called with s.mu held, in fragment order.
func (s *sealer) sealColumn(ep *epochState, col map[string]transcode.Output) {
	top := col[s.renditions[0]]
	now := s.o.now()
	if !ep.open {
		ep.open = true
		ep.disc, ep.seq0 = s.b.newDiscontinuity()
		ep.pdt0 = now.Add(-top.Duration)
		ep.start0 = top.Start
		s.sealInits(ep)
	}
	seq := ep.seq0 + uint64(ep.next)
	pdt := ep.pdt0.Add(top.Start - ep.start0).UTC()
	recs := make([]proto.Segment, 0, len(s.renditions))
	data := make([][]byte, 0, len(s.renditions))
	for _, name := range s.renditions {
		out := col[name]
		if d := out.Start - top.Start; !ep.misaligned && (d > 100*time.Millisecond || d < -100*time.Millisecond) {
			ep.misaligned = true
			s.log.Warn("renditions are not keyframe-aligned; is the source keyframe interval the segment duration?",
				"rendition", name, "offset", d, "sequence", seq)
		}
		rec := proto.Seal(proto.Segment{
			Stream: s.b.stream, Broadcast: s.b.id, Rendition: name, Kind: proto.KindMedia,
			Sequence: seq, Discontinuity: ep.disc, Start: out.Start, Duration: out.Duration,
			ProgramDateTime: pdt,
		}, out.Data, s.o.key)
		recs = append(recs, rec)
		data = append(data, out.Data)
	}
	s.b.addColumn(recs, data)
	var d Description
	if s.o.p.Feed != nil {
		d = s.o.describe(s.b)
	}
	for i, rec := range recs {
		s.archive(rec, data[i])
		s.o.metrics.segments.WithLabelValues(s.b.stream, rec.Rendition).Inc()
		if s.o.p.Feed != nil {
			s.o.p.Feed.Segment(d, rec, data[i])
		}
	}
}

func (s *sealer) sealInits(ep *epochState) {
	recs := make([]proto.Segment, 0, len(s.renditions))
	for _, name := range s.renditions {
		out := ep.inits[name]
		rec := proto.Seal(proto.Segment{
			Stream: s.b.stream, Broadcast: s.b.id, Rendition: name, Kind: proto.KindInit,
			Sequence: uint64(ep.disc), Discontinuity: ep.disc,
		}, out.Data, s.o.key)
		s.b.addInit(rec, out.Data, out.Codecs, out.Width, out.Height)
		s.archive(rec, out.Data)
		recs = append(recs, rec)
	}
	if s.o.p.Feed != nil {
		d := s.o.describe(s.b)
		for i, rec := range recs {
			s.o.p.Feed.Segment(d, rec, ep.inits[s.renditions[i]].Data)
		}
	}
	if err := s.o.store.PutMeta(s.b.meta()); err != nil {
		s.log.Error("archive broadcast metadata", "err", err)
	}
}

func (s *sealer) archive(rec proto.Segment, data []byte) {
	if err := s.o.store.Put(rec, data); err != nil {
		s.o.metrics.archiveErrors.Inc()
		s.log.Error("archive segment", "rendition", rec.Rendition, "sequence", rec.Sequence, "err", err)
	}
}
