// Command ladder benchmarks Canopy's transcoder against bare ffmpeg.
//
// It generates (or reuses, with -keep) a 1080p30 H.264 + AAC FLV source,
// then alternately, -runs times, transcodes it to the default ladder
//
//   - bare: as one plain ffmpeg command reading the file, with exactly the
//     argv transcode.BuildArgs produces, its pipes rewritten to files
//     (see bareArgs);
//   - canopy: through a transcode.Transcoder, the FLV file decoded with
//     go-flv and every tag fed to WriteTag as fast as it is accepted, every
//     init segment and fragment received by OnOutput;
//
// and prints wall time, real-time factor (source duration / wall time) and
// CPU time (children's user+sys from getrusage(RUSAGE_CHILDREN), plus, for
// the canopy run, this process's own user+sys from RUSAGE_SELF), the
// canopy/bare CPU ratio and PASS/MISS against the targets (≥ 2× real time,
// ≤ 5 % CPU overhead). A missed target is reported, not an error: the exit
// status is non-zero only when something fails.
//
// Run it with `make bench` or `go run ./bench/ladder -h`.
package main
