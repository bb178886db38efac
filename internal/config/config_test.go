package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, yaml string, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	if yaml != "" {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"--config", path}, args...)
	}
	cfg := Default()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	err := Parse(fs, args, func(k string) string { return env[k] }, &cfg, func(fs *flag.FlagSet, c *Config) {
		BindCommon(fs, c)
		BindOrigin(fs, c)
	})
	return cfg, err
}

func TestPrecedence(t *testing.T) {
	yaml := "origin:\n  http: \":7000\"\n  rtmp: \":7001\"\n  reconnect_grace: 5s\n"
	for _, tc := range []struct {
		name       string
		env        map[string]string
		args       []string
		http, rtmp string
		grace      time.Duration
	}{
		{"file only", nil, nil, ":7000", ":7001", 5 * time.Second},
		{"env beats file", map[string]string{"CANOPY_HTTP": ":8000"}, nil, ":8000", ":7001", 5 * time.Second},
		{"flag beats env", map[string]string{"CANOPY_HTTP": ":8000"}, []string{"--http", ":9000"}, ":9000", ":7001", 5 * time.Second},
		{"duration from env", map[string]string{"CANOPY_RECONNECT_GRACE": "1m"}, nil, ":7000", ":7001", time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(t, yaml, tc.env, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Origin.HTTP != tc.http || cfg.Origin.RTMP != tc.rtmp || cfg.Origin.ReconnectGrace != tc.grace {
				t.Errorf("got http=%s rtmp=%s grace=%v", cfg.Origin.HTTP, cfg.Origin.RTMP, cfg.Origin.ReconnectGrace)
			}
		})
	}
}

func TestRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown key", "origin:\n  htpp: \":1\"\n", nil, nil, "htpp"},
		{"wrong type", "origin:\n  max_connections: many\n", nil, nil, "line 2"},
		{"short stream key", "origin:\n  streams:\n    - {id: a, key: short}\n", nil, nil, "at least 8"},
		{"bad stream id", "origin:\n  streams:\n    - {id: \"a/b\", key: longenough}\n", nil, nil, "id"},
		{"duplicate key", "origin:\n  streams:\n    - {id: a, key: longenough}\n    - {id: b, key: longenough}\n", nil, nil, "duplicate"},
		{"bad log format", "", map[string]string{"CANOPY_LOG_FORMAT": "xml"}, nil, "log.format"},
		{"bad env duration", "", map[string]string{"CANOPY_RECONNECT_GRACE": "soon"}, nil, "CANOPY_RECONNECT_GRACE"},
		{"tiny segment", "origin:\n  transcode:\n    segment_duration: 10ms\n", nil, nil, "segment_duration"},
		{"bad rung", "origin:\n  transcode:\n    ladder:\n      - {name: x, height: 10, bitrate: 1}\n", nil, nil, "ladder[0]"},
		{"browser tracker not ws", "node:\n  browser_trackers: [\"http://t:8081/tracker\"]\n", nil, nil, "browser_trackers[0]"},
		{"origin browser tracker not http", "origin:\n  browser_tracker: \"ws://t:8081\"\n", nil, nil, "browser_tracker"},
		{"negative max browsers", "node:\n  max_browsers: -1\n", nil, nil, "max_browsers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.yaml, tc.env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

func TestExampleFileIsValid(t *testing.T) {
	cfg := Default()
	if err := LoadFile("../../canopy.example.yaml", &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Origin.HTTP != ":8080" || cfg.Origin.Transcode.SegmentDuration != 2*time.Second {
		t.Errorf("example file disagrees with the defaults: %+v", cfg.Origin)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("origin:\n  http: \":1\"\n"))
	f.Add([]byte("data_dir: x\nlog: {level: info}\n"))
	f.Add([]byte("origin:\n  streams:\n    - {id: a, key: b}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := Default()
		err := Decode(strings.NewReader(string(b)), &cfg)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error not wrapping ErrInvalid: %v", err)
		}
		if err == nil {
			_ = cfg.Validate()
		}
	})
}

func TestMaxWHEPViewersOrDerived(t *testing.T) {
	for _, tc := range []struct {
		n    Node
		want int
	}{
		{Node{MaxWHEPViewers: 9, UploadMbps: 100}, 9},
		{Node{UploadMbps: 30}, 10},
		{Node{UploadMbps: 1}, 2},
	} {
		if got := tc.n.MaxWHEPViewersOrDerived(); got != tc.want {
			t.Errorf("%+v: got %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestMaxBrowsersOrDerived(t *testing.T) {
	for _, tc := range []struct {
		n    Node
		want int
	}{
		{Node{MaxBrowsers: 7, UploadMbps: 100}, 7},
		{Node{UploadMbps: 20}, 10},
		{Node{UploadMbps: 1}, 2},
	} {
		if got := tc.n.MaxBrowsersOrDerived(); got != tc.want {
			t.Errorf("%+v: got %d, want %d", tc.n, got, tc.want)
		}
	}
}
