// Package testsrc publishes a synthetic test pattern (with a tone) to an RTMP
// URL through a real ffmpeg process. canopy dev uses it for the demo stream
// and the end-to-end tests use it as a real broadcaster.
package testsrc
