// Command nodehttp compares a relay node's HTTP serving throughput with
// nginx serving the same bytes, in the same run and on the same machine.
//
// It starts a root node in-process (node.New with Root: true, on a libp2p
// host on loopback), publishes -count synthetic sealed media segments of
// -size bytes plus one -small segment in a second rendition, serves
// node.Handler() on 127.0.0.1, writes the very same bytes (and the node's
// rendered media playlist) under a temporary document root, and starts
// nginx on it with a generated configuration (worker_processes = -procs,
// sendfile on, access log off). This process's GOMAXPROCS is set to -procs
// too, so both servers get the same number of threads.
//
// For each case it checks that both servers return identical bodies, warms
// both up with an untimed wrk run of -warmup (2 s), then runs wrk (-threads, -connections, -duration, --latency) against one URL
// on each server, alternating which goes first when -runs > 1:
//
//   - segment: the last -size media segment (static bytes from the cache);
//   - small: the -small segment, to compare per-request overhead;
//   - playlist: the media playlist, which the node renders per request and
//     nginx serves as a file.
//
// It prints requests/s, MiB/s and latency percentiles of each server and
// the node/nginx ratio of requests/s, with PASS/MISS against -target
// (0.8 by default). A missed target is reported, not an error.
//
// Needs the nginx and wrk executables (Debian packages nginx and wrk).
// Run it with `go run ./bench/nodehttp -h`.
package main
