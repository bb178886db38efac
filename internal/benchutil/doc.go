// Package benchutil holds what the benchmark commands under bench/ share:
// parsing of size flags.
package benchutil
