package sfu

import (
	"errors"
	"testing"

	"github.com/pion/webrtc/v4"
)

func h264Params(pt webrtc.PayloadType, fmtp string) webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/h264", ClockRate: 90000, SDPFmtpLine: fmtp},
		PayloadType:        pt,
	}
}

func TestMatchCodec(t *testing.T) {
	cb := h264Params(106, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
	base := h264Params(102, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f")
	baseMode0 := h264Params(104, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f")
	high := h264Params(120, "profile-level-id=64001f;packetization-mode=1")
	main := h264Params(116, "profile-level-id=4d001f;packetization-mode=1")
	vp8 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}
	opus := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}
	pcmu := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0}
	mainCap := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: "packetization-mode=1;profile-level-id=4d0028"}

	tests := []struct {
		name   string
		want   webrtc.RTPCodecCapability
		have   []webrtc.RTPCodecParameters
		wantPT webrtc.PayloadType // 0: unsupported
	}{
		{"exact profile preferred", h264Cap, []webrtc.RTPCodecParameters{vp8, base, baseMode0, cb}, 106},
		{"constrained baseline on baseline", h264Cap, []webrtc.RTPCodecParameters{vp8, baseMode0, base}, 102},
		{"constrained baseline on high", h264Cap, []webrtc.RTPCodecParameters{high}, 120},
		{"packetization-mode must match", h264Cap, []webrtc.RTPCodecParameters{baseMode0, vp8}, 0},
		{"main not on baseline", mainCap, []webrtc.RTPCodecParameters{base, cb}, 0},
		{"main on main ignoring level", mainCap, []webrtc.RTPCodecParameters{cb, main, high}, 116},
		{"main on high", mainCap, []webrtc.RTPCodecParameters{cb, high}, 120},
		{"opus", opusCap, []webrtc.RTPCodecParameters{pcmu, opus}, 111},
		{"no opus", opusCap, []webrtc.RTPCodecParameters{pcmu}, 0},
		{"nothing offered", h264Cap, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := matchCodec(tc.want, tc.have)
			if tc.wantPT == 0 {
				if !errors.Is(err, webrtc.ErrUnsupportedCodec) {
					t.Fatalf("err = %v, want ErrUnsupportedCodec", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.PayloadType != tc.wantPT {
				t.Errorf("payload type = %d, want %d", got.PayloadType, tc.wantPT)
			}
		})
	}
}
