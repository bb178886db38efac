package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  bool
	}{
		{"1MiB", 1 << 20, false}, {"4KiB", 4096, false}, {"100", 100, false}, {"2MB", 2_000_000, false},
		{"0", 0, true}, {"", 0, true}, {"1GiB", 0, true}, {"65MiB", 0, true}, {"x", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want || (err != nil && !errors.Is(err, errSize)) {
			t.Errorf("parseSize(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		argv []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-duration", "2s", "-connections", "8", "-cases", "small, playlist"}, true},
		{[]string{"-cases", "video"}, false},
		{[]string{"-threads", "4", "-connections", "2"}, false},
		{[]string{"-duration", "500ms"}, false},
		{[]string{"-procs", "0"}, false},
		{[]string{"-warmup", "0"}, true},
		{[]string{"-warmup", "500ms"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			c, err := parseFlags(tt.argv, io.Discard)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (c.count != 20 || c.size != 1<<20 || c.small != 4096 || c.target != 0.8) {
				t.Fatalf("defaults %+v", c)
			}
		})
	}
}

func TestNginxConfig(t *testing.T) {
	got := nginxConfig("/tmp/p", "/tmp/p/www", "127.0.0.1:8081", 3)
	for _, want := range []string{
		"worker_processes 3;\n", "pid /tmp/p/nginx.pid;", "error_log /tmp/p/error.log warn;",
		"sendfile on;", "access_log off;", "listen 127.0.0.1:8081;", "root /tmp/p/www;",
		"client_body_temp_path /tmp/p/client_body_temp;", "video/iso.segment m4s;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "daemon") {
		t.Errorf("daemon must come from -g only:\n%s", got)
	}
}
