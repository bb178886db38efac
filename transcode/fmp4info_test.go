package transcode

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
)

// encodeMoof builds a moof with one traf per (trackID, tfhd, trun) entry.
func encodeMoof(t *testing.T, trafs ...*mp4.TrafBox) []byte {
	t.Helper()
	moof := &mp4.MoofBox{}
	if err := moof.AddChild(mp4.CreateMfhd(1)); err != nil {
		t.Fatal(err)
	}
	for _, traf := range trafs {
		if err := moof.AddChild(traf); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := moof.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func traf(t *testing.T, tfhd *mp4.TfhdBox, tfdt *mp4.TfdtBox, truns ...*mp4.TrunBox) *mp4.TrafBox {
	t.Helper()
	tr := &mp4.TrafBox{}
	for _, c := range []mp4.Box{tfhd, tfdt} {
		if c == (*mp4.TfdtBox)(nil) {
			continue
		}
		if err := tr.AddChild(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range truns {
		if err := tr.AddChild(r); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

// trun returns a trun of n samples, each with an explicit duration when dur > 0.
func trun(n int, dur uint32) *mp4.TrunBox {
	r := &mp4.TrunBox{Samples: make([]mp4.Sample, n)}
	if dur > 0 {
		r.Flags |= mp4.TrunSampleDurationPresentFlag
		for i := range r.Samples {
			r.Samples[i].Dur = dur
		}
	}
	return r
}

func tfhdDefault(track, dur uint32) *mp4.TfhdBox {
	h := mp4.CreateTfhd(track)
	if dur > 0 {
		h.Flags |= mp4.TfhdDefaultSampleDurationPresentFlag
		h.DefaultSampleDuration = dur
	}
	return h
}

func TestFragmentTiming(t *testing.T) {
	info := &initInfo{refTrack: 1, tracks: map[uint32]trackInfo{
		1: {timescale: 90000, trex: &mp4.TrexBox{TrackID: 1, DefaultSampleDuration: 3000}},
		2: {timescale: 48000},
	}}
	noTrex := &initInfo{refTrack: 1, tracks: map[uint32]trackInfo{1: {timescale: 15360}}}
	tests := []struct {
		name      string
		info      *initInfo
		moof      []byte
		wantStart time.Duration
		wantDur   time.Duration
		wantErr   error
	}{
		{"durations in trun", info, encodeMoof(t, traf(t, tfhdDefault(1, 0), mp4.CreateTfdt(180000), trun(60, 3000))),
			2 * time.Second, 2 * time.Second, nil},
		{"tfhd default duration", info, encodeMoof(t, traf(t, tfhdDefault(1, 1500), mp4.CreateTfdt(90000), trun(60, 0))),
			time.Second, time.Second, nil},
		{"trex default duration", info, encodeMoof(t, traf(t, tfhdDefault(1, 0), mp4.CreateTfdt(0), trun(30, 0))),
			0, time.Second, nil},
		{"two truns add up", noTrex, encodeMoof(t, traf(t, tfhdDefault(1, 0), mp4.CreateTfdt(15360), trun(10, 512), trun(20, 512))),
			time.Second, time.Second, nil},
		{"reference track found after the audio traf", info, encodeMoof(t,
			traf(t, tfhdDefault(2, 1024), mp4.CreateTfdt(96000), trun(10, 0)),
			traf(t, tfhdDefault(1, 0), mp4.CreateTfdt(270000), trun(30, 3000))),
			3 * time.Second, time.Second, nil},
		{"fractional ticks", noTrex, encodeMoof(t, traf(t, tfhdDefault(1, 0), mp4.CreateTfdt(1), trun(1, 1))),
			65104, 65104, nil}, // 1/15360 s = 65104.1 ns
		{"no traf for the reference track", info, encodeMoof(t, traf(t, tfhdDefault(2, 1024), mp4.CreateTfdt(0), trun(1, 0))),
			0, 0, ErrMP4},
		{"no tfdt", info, encodeMoof(t, traf(t, tfhdDefault(1, 0), nil, trun(1, 0))), 0, 0, ErrMP4},
		{"not a moof", info, box("free", nil), 0, 0, ErrMP4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, dur, err := tc.info.fragmentTiming(tc.moof)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if start != tc.wantStart || dur != tc.wantDur {
				t.Fatalf("start %v duration %v, want %v %v", start, dur, tc.wantStart, tc.wantDur)
			}
		})
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		n    uint64
		ts   uint32
		want time.Duration
	}{
		{90000, 90000, time.Second},
		{1 << 62, 1, time.Duration(1<<63 - 1)}, // saturates
		{1<<64 - 1, 1 << 30, time.Duration(1<<63 - 1)},
		{1<<64 - 1, 1 << 31, time.Duration(8589934591*1e9 + 999999999)}, // just fits
		{3, 2, 1500 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := ticks(tc.n, tc.ts); got != tc.want {
			t.Errorf("ticks(%d, %d) = %v, want %v", tc.n, tc.ts, got, tc.want)
		}
	}
}
