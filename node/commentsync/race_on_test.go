//go:build race

package commentsync

// raceEnabled: the race detector slows libp2p and Badger several-fold, so
// the latency target is reported, not asserted, under -race.
const raceEnabled = true
