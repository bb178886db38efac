package sfu_test

import (
	"log/slog"

	"github.com/canopylive/canopy/sfu"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// A server keeps one Track per upstream track and gives each viewer's
// PeerConnection (built from NewAPI) a DownTrack of it.
func Example() {
	video, err := sfu.NewTrack(sfu.TrackParams{
		ID:       "video",
		StreamID: "demo",
		Codec: webrtc.RTPCodecCapability{
			MimeType:    webrtc.MimeTypeH264,
			ClockRate:   90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		},
		RequestKeyframe: func() { /* ask upstream (non-blocking) */ },
		Logger:          slog.Default(),
	})
	if err != nil {
		return
	}
	defer video.Close()

	// Upstream reader: video.WriteRTP(pkt) for every RTP packet; after a
	// relay switches parent, video.Switch().
	_ = video.WriteRTP(&rtp.Packet{})

	// Per viewer (WHEP): the offer arrives, the answer goes back.
	api, err := sfu.NewAPI(webrtc.SettingEngine{})
	if err != nil {
		return
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return
	}
	defer pc.Close()
	dt := video.NewDownTrack()
	defer dt.Close()
	if _, err := pc.AddTrack(dt); err != nil {
		return
	}
	// SetRemoteDescription(offer), CreateAnswer, SetLocalDescription: pion
	// binds dt, which then forwards from the next keyframe. Do not read RTCP
	// from the returned RTPSender: dt reads it.
}
