package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds the config file read; a config is never this large.
const maxFileSize = 1 << 20

// Decode reads YAML strictly into cfg, keeping the values cfg already has for
// keys the document does not set.
func Decode(r io.Reader, cfg *Config) error {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if len(data) > maxFileSize {
		return fmt.Errorf("%w: config file larger than %d bytes", ErrInvalid, maxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// LoadFile decodes the YAML file at path into cfg.
func LoadFile(path string, cfg *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	if err := Decode(f, cfg); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// EnvName is the environment variable that sets the flag called name:
// "rtmp-addr" is CANOPY_RTMP_ADDR.
func EnvName(name string) string {
	return "CANOPY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse applies the layers in order: the YAML file named by --config (or
// CANOPY_CONFIG) over cfg, then CANOPY_* variables for every flag in fs, then
// the flags in args. bind is called after the file is read and before the
// flags are parsed, so it can register flags whose defaults are the file's
// values. getenv is os.Getenv outside tests.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string, cfg *Config, bind func(*flag.FlagSet, *Config)) error {
	path := getenv(EnvName("config"))
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				path = args[i+1]
			}
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			path = a[strings.IndexByte(a, '=')+1:]
		}
	}
	if path != "" {
		if err := LoadFile(path, cfg); err != nil {
			return err
		}
	}
	fs.String("config", path, "YAML config file (env CANOPY_CONFIG)")
	bind(fs, cfg)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" || envErr != nil {
			return
		}
		if v, ok := lookup(getenv, EnvName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%w: %s: %w", ErrInvalid, EnvName(f.Name), err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	return cfg.Validate()
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}
