package sfu

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// APIParams configures NewAPIWithParams.
type APIParams struct {
	SettingEngine webrtc.SettingEngine
	// NoBandwidthEstimation leaves out the per-PeerConnection send-side
	// bandwidth estimator (pion's GCC): layered DownTracks then stay on
	// their first layer.
	NoBandwidthEstimation bool
	// Initial, lowest and highest estimate in bits/s; defaults
	// DefaultInitialBitrate, DefaultMinBitrate, DefaultMaxBitrate. The
	// initial estimate picks a layered viewer's first layer.
	InitialBitrate, MinBitrate, MaxBitrate int
}

// NewAPI is NewAPIWithParams with se and the default bandwidth estimation.
func NewAPI(se webrtc.SettingEngine) (*webrtc.API, error) {
	return NewAPIWithParams(APIParams{SettingEngine: se})
}

// NewAPIWithParams builds the pion API for viewer-facing PeerConnections:
// H.264 and Opus with NACK, PLI, FIR and transport-cc feedback, RTCP
// sender/receiver reports, transport-wide sequence numbers on outgoing
// packets (webrtc.ConfigureTWCCHeaderExtensionSender) and, unless
// NoBandwidthEstimation, a send-side bandwidth estimator per
// PeerConnection (pion's GCC, without its pacer) fed by the viewer's
// transport-cc feedback; the DownTracks of that PeerConnection find it in
// the RTCP they read. It registers no NACK responder: DownTracks
// retransmit from their Track's shared ring.
func NewAPIWithParams(p APIParams) (*webrtc.API, error) {
	if p.InitialBitrate < 0 || p.MinBitrate < 0 || p.MaxBitrate < 0 {
		return nil, fmt.Errorf("%w: negative bitrate", ErrParams)
	}
	se := p.SettingEngine
	me := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{
		{Type: webrtc.TypeRTCPFBNACK},
		{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
		{Type: webrtc.TypeRTCPFBTransportCC},
	}
	// Every H.264 profile a browser may list (packetization-mode 1 only),
	// so that an offer matches whichever it lists; Bind then picks one the
	// Track's profile can use.
	h264Profiles := []struct {
		pt   webrtc.PayloadType
		plid string
	}{
		{102, "42001f"}, // Baseline
		{106, "42e01f"}, // Constrained Baseline
		{116, "4d001f"}, // Main
		{118, "640c1f"}, // Constrained High
		{120, "64001f"}, // High
	}
	for _, p := range h264Profiles {
		c := webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType:     webrtc.MimeTypeH264,
				ClockRate:    90000,
				SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + p.plid,
				RTCPFeedback: videoFB,
			},
			PayloadType: p.pt,
		}
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("sfu: register H.264 %s: %w", p.plid, err)
		}
	}
	opus := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType:     webrtc.MimeTypeOpus,
			ClockRate:    48000,
			Channels:     2,
			SDPFmtpLine:  "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
		},
		PayloadType: 111,
	}
	if err := me.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu: register Opus: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("sfu: RTCP reports: %w", err)
	}
	if !p.NoBandwidthEstimation {
		// Before the TWCC header interceptor, so that packets reach the
		// estimator with their transport-wide sequence number set.
		ir.Add(newBWEFactory(p))
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, ir); err != nil {
		return nil, fmt.Errorf("sfu: TWCC header extension: %w", err)
	}
	return webrtc.NewAPI(
		webrtc.WithMediaEngine(me),
		webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se),
	), nil
}
