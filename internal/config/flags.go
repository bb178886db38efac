package config

import "flag"

// BindCommon registers the flags every subcommand shares.
func BindCommon(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for keys, archives and logs")
	fs.StringVar(&c.Log.Level, "log-level", c.Log.Level, "debug, info, warn or error")
	fs.StringVar(&c.Log.Format, "log-format", c.Log.Format, "text or json")
}

// BindOrigin registers the origin's flags.
func BindOrigin(fs *flag.FlagSet, c *Config) {
	o := &c.Origin
	fs.StringVar(&o.HTTP, "http", o.HTTP, "HTTP listen address (:0 picks a free port)")
	fs.StringVar(&o.RTMP, "rtmp", o.RTMP, "RTMP listen address (:0 picks a free port)")
	fs.StringVar(&o.PublicURL, "public-url", o.PublicURL, "base URL viewers use, printed in logs (default from --http)")
	fs.StringVar(&o.KeyFile, "key-file", o.KeyFile, "origin Ed25519 key (PEM); default <data-dir>/origin.key")
	fs.StringVar(&o.Transcode.FFmpeg, "ffmpeg", o.Transcode.FFmpeg, "ffmpeg binary")
	fs.StringVar(&o.Transcode.Preset, "preset", o.Transcode.Preset, "x264 preset for the ladder")
	fs.BoolVar(&o.Transcode.Passthrough, "passthrough", o.Transcode.Passthrough, "pass the source video through as the top rung")
	fs.DurationVar(&o.ReconnectGrace, "reconnect-grace", o.ReconnectGrace, "how long a dropped publisher may reconnect and continue the stream")
}
