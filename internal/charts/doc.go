// Package charts draws line charts (SVG or PNG) for the simulator and the
// load generator with gonum.org/v1/plot, so both tools emit the same
// pictures of the same metrics.
package charts
