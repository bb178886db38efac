package origin

import (
	"errors"
	"strings"
)

// refused logs and counts a refused publisher or connection.
func (o *Origin) refused(remote string, err error, attrs ...any) {
	args := append([]any{"component", "rtmp", "remote", remote, "reason", err.Error()}, attrs...)
	o.root.Warn("refused RTMP publisher", args...)
	o.metrics.refused.WithLabelValues(reasonLabel(err)).Inc()
}

// reasonLabel maps a refusal to a small fixed set of metric label values.
func reasonLabel(err error) string {
	for _, r := range []struct {
		err   error
		label string
	}{
		{ErrUnknownKey, "unknown_key"}, {ErrBadApp, "bad_app"}, {ErrAlreadyLive, "already_live"},
		{ErrUnsupportedVideo, "video_codec"}, {ErrUnsupportedAudio, "audio_codec"},
		{ErrBadCodecConfig, "bad_codec_config"}, {ErrNoVideo, "no_video"}, {ErrTooManyConns, "too_many_connections"},
	} {
		if errors.Is(err, r.err) {
			return r.label
		}
	}
	if strings.Contains(err.Error(), "handshake") {
		return "handshake"
	}
	return "other"
}
