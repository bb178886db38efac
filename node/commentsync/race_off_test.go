//go:build !race

package commentsync

const raceEnabled = false
