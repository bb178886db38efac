// Package sim is a discrete-event simulation of one live stream carried by
// Canopy: an origin sealing segments, a relay tree arranged by the real
// tracker.Tree, and viewers that pick HTTP or P2P per segment with
// internal/playrules. Time is simulated (an event queue, no goroutines per
// viewer, no sockets, no wall clock in results) and all randomness comes
// from one seeded PCG, so a Config gives the same Result byte for byte.
// Run returns the metrics the load generator reports, plus the
// Kumar-Liu-Ross bound on origin bandwidth (per rendition swarm when the
// audience is spread over the ladder), and WriteCharts draws them.
package sim
