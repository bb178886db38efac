package transcode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"time"

	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/mp4"
)

// InitInfo is what an init segment says about its tracks.
type InitInfo struct {
	Codecs        string // RFC 6381 codecs of all tracks, video first, comma separated
	Width, Height int    // of the first video track
}

// trackInfo is what fragment timing needs about one track.
type trackInfo struct {
	timescale uint32
	trex      *mp4.TrexBox // may be nil
}

// initInfo is the decoded moov of one output.
type initInfo struct {
	codecs        []string
	width, height int
	refTrack      uint32 // the video track (or the first track without video)
	tracks        map[uint32]trackInfo
}

func (i *initInfo) public() InitInfo {
	return InitInfo{Codecs: strings.Join(i.codecs, ","), Width: i.width, Height: i.height}
}

// decodeBox decodes one box with mp4ff, turning a panic on hostile input
// into an error. A 64-bit largesize header is rewritten as a 32-bit one
// first: mp4ff v0.50.0 locates container children 8 bytes after the box
// start whatever the header length. (Sizes above 4 GiB never get here:
// MaxBoxSize.)
func decodeBox(data []byte) (b mp4.Box, err error) {
	if len(data) >= 16 && binary.BigEndian.Uint32(data) == 1 {
		norm := make([]byte, len(data)-8)
		binary.BigEndian.PutUint32(norm, uint32(len(norm)))
		copy(norm[4:8], data[4:8])
		copy(norm[8:], data[16:])
		data = norm
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("%w: decoder panic: %v", ErrMP4, r)
		}
	}()
	b, err = mp4.DecodeBox(0, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMP4, err)
	}
	return b, nil
}

// parseInit decodes a moov box.
func parseInit(moovData []byte) (*initInfo, error) {
	b, err := decodeBox(moovData)
	if err != nil {
		return nil, err
	}
	moov, ok := b.(*mp4.MoovBox)
	if !ok {
		return nil, fmt.Errorf("%w: expected moov, got %s", ErrMP4, b.Type())
	}
	info := &initInfo{tracks: map[uint32]trackInfo{}}
	var video, audio, other []string
	haveVideo := false
	for _, trak := range moov.Traks {
		if trak == nil || trak.Tkhd == nil || trak.Mdia == nil || trak.Mdia.Mdhd == nil || trak.Mdia.Hdlr == nil {
			return nil, fmt.Errorf("%w: incomplete trak", ErrMP4)
		}
		id := trak.Tkhd.TrackID
		ti := trackInfo{timescale: trak.Mdia.Mdhd.Timescale}
		if moov.Mvex != nil {
			for _, trex := range moov.Mvex.Trexs {
				if trex != nil && trex.TrackID == id {
					ti.trex = trex
				}
			}
		}
		info.tracks[id] = ti
		var stsd *mp4.StsdBox
		if m := trak.Mdia.Minf; m != nil && m.Stbl != nil {
			stsd = m.Stbl.Stsd
		}
		switch trak.Mdia.Hdlr.HandlerType {
		case "vide":
			codec, w, h := videoCodec(stsd)
			video = append(video, codec)
			if !haveVideo {
				haveVideo = true
				info.refTrack, info.width, info.height = id, w, h
			}
		case "soun":
			audio = append(audio, audioCodec(stsd))
		default:
			if stsd != nil && len(stsd.Children) > 0 {
				other = append(other, stsd.Children[0].Type())
			}
		}
		if info.refTrack == 0 && !haveVideo {
			info.refTrack = id
		}
	}
	if len(info.tracks) == 0 {
		return nil, fmt.Errorf("%w: moov without tracks", ErrMP4)
	}
	info.codecs = append(append(video, audio...), other...)
	return info, nil
}

// videoCodec returns the RFC 6381 codec string and size of a video sample description.
func videoCodec(stsd *mp4.StsdBox) (string, int, int) {
	if stsd == nil {
		return "unknown", 0, 0
	}
	if e := stsd.AvcX; e != nil {
		codec := e.Type()
		if e.AvcC != nil {
			rec := e.AvcC.DecConfRec
			codec = fmt.Sprintf("%s.%02x%02x%02x", e.Type(), rec.AVCProfileIndication, rec.ProfileCompatibility, rec.AVCLevelIndication)
			if len(rec.SPSnalus) > 0 {
				if sps, err := parseSPS(rec.SPSnalus[0]); err == nil {
					codec = avc.CodecString(e.Type(), sps)
				}
			}
		}
		return strings.ToLower(codec), int(e.Width), int(e.Height)
	}
	for _, e := range []*mp4.VisualSampleEntryBox{stsd.HvcX, stsd.VvcX, stsd.Av01, stsd.VpXX, stsd.Avs3, stsd.Encv} {
		if e != nil {
			return e.Type(), int(e.Width), int(e.Height)
		}
	}
	return "unknown", 0, 0
}

// parseSPS wraps mp4ff's SPS parser against panics on hostile input.
func parseSPS(nalu []byte) (sps *avc.SPS, err error) {
	defer func() {
		if r := recover(); r != nil {
			sps, err = nil, fmt.Errorf("%w: SPS parser panic: %v", ErrMP4, r)
		}
	}()
	return avc.ParseSPSNALUnit(nalu, false)
}

// audioCodec returns the RFC 6381 codec string of an audio sample description.
func audioCodec(stsd *mp4.StsdBox) string {
	if stsd == nil {
		return "unknown"
	}
	if e := stsd.Mp4a; e != nil {
		if e.Esds == nil || e.Esds.DecConfigDescriptor == nil {
			return "mp4a"
		}
		dcd := e.Esds.DecConfigDescriptor
		if dcd.ObjectType != 0x40 { // not MPEG-4 audio
			return fmt.Sprintf("mp4a.%02x", dcd.ObjectType)
		}
		aot := 2 // AAC-LC when the AudioSpecificConfig is missing
		if dsi := dcd.DecSpecificInfo; dsi != nil && len(dsi.DecConfig) > 0 {
			aot = int(dsi.DecConfig[0] >> 3)
			if aot == 31 && len(dsi.DecConfig) > 1 { // escape: 6 more bits
				aot = 32 + (int(dsi.DecConfig[0]&7)<<3 | int(dsi.DecConfig[1]>>5))
			}
		}
		return fmt.Sprintf("mp4a.40.%d", aot)
	}
	if stsd.Opus != nil {
		return "opus"
	}
	for _, e := range []*mp4.AudioSampleEntryBox{stsd.AC3, stsd.EC3, stsd.AC4, stsd.MhXX, stsd.Enca} {
		if e != nil {
			return e.Type()
		}
	}
	return "unknown"
}

// fragmentTiming decodes a moof and returns the reference track's start
// (tfdt) and duration (sum of its sample durations).
func (i *initInfo) fragmentTiming(moofData []byte) (time.Duration, time.Duration, error) {
	b, err := decodeBox(moofData)
	if err != nil {
		return 0, 0, err
	}
	moof, ok := b.(*mp4.MoofBox)
	if !ok {
		return 0, 0, fmt.Errorf("%w: expected moof, got %s", ErrMP4, b.Type())
	}
	return i.timing(moof)
}

// timing computes start and duration of the reference track in a decoded moof.
func (i *initInfo) timing(moof *mp4.MoofBox) (time.Duration, time.Duration, error) {
	for _, traf := range moof.Trafs {
		if traf == nil || traf.Tfhd == nil || traf.Tfhd.TrackID != i.refTrack {
			continue
		}
		ti := i.tracks[i.refTrack]
		if ti.timescale == 0 {
			return 0, 0, fmt.Errorf("%w: track %d has timescale 0", ErrMP4, i.refTrack)
		}
		if traf.Tfdt == nil {
			return 0, 0, fmt.Errorf("%w: traf of track %d without tfdt", ErrMP4, i.refTrack)
		}
		var total uint64
		for _, trun := range traf.Truns {
			if trun == nil {
				continue
			}
			total += trun.AddSampleDefaultValues(traf.Tfhd, ti.trex)
		}
		return ticks(traf.Tfdt.BaseMediaDecodeTime(), ti.timescale), ticks(total, ti.timescale), nil
	}
	return 0, 0, fmt.Errorf("%w: moof without a traf for track %d", ErrMP4, i.refTrack)
}

// ticks converts a count of 1/timescale units to a Duration without
// overflowing the intermediate product; it saturates at the largest Duration.
func ticks(n uint64, timescale uint32) time.Duration {
	ts := uint64(timescale)
	sec, rem := n/ts, n%ts
	if sec > uint64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	hi, lo := bits.Mul64(rem, uint64(time.Second))
	frac, _ := bits.Div64(hi, lo, ts) // rem < ts, so hi < ts: no overflow
	d := sec*uint64(time.Second) + frac
	if d > math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}
