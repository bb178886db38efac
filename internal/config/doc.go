// Package config loads Canopy's configuration: defaults, then a YAML file
// (strict: unknown keys are errors), then CANOPY_* environment variables, then
// command-line flags, each layer overriding the one before.
package config
