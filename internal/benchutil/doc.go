// Package benchutil holds what the benchmark commands under bench/ share:
// parsing of size flags and the body of main (flags, signals, timeout,
// exit status).
package benchutil
