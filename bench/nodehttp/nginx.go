package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

var errNginx = errors.New("nginx did not start")

// nginxConfig is the configuration file for serving docroot on addr with
// the given number of worker processes; everything nginx writes goes under
// prefix. Headers mirror what the node sends for segments.
func nginxConfig(prefix, docroot, addr string, workers int) string {
	p := func(name string) string { return filepath.Join(prefix, name) }
	var b strings.Builder
	fmt.Fprintf(&b, "worker_processes %d;\n", workers)
	fmt.Fprintf(&b, "pid %s;\n", p("nginx.pid"))
	fmt.Fprintf(&b, "error_log %s warn;\n", p("error.log"))
	b.WriteString("events { worker_connections 4096; }\n")
	b.WriteString("http {\n")
	b.WriteString("    access_log off;\n    sendfile on;\n    tcp_nopush on;\n    tcp_nodelay on;\n")
	b.WriteString("    keepalive_requests 1000000;\n    keepalive_timeout 60s;\n")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "    %s_temp_path %s;\n", t, p(t+"_temp"))
	}
	b.WriteString("    types {\n        application/vnd.apple.mpegurl m3u8;\n        video/iso.segment m4s;\n        video/mp4 mp4;\n    }\n")
	b.WriteString("    default_type application/octet-stream;\n")
	b.WriteString("    server {\n")
	fmt.Fprintf(&b, "        listen %s;\n", addr)
	fmt.Fprintf(&b, "        root %s;\n", docroot)
	b.WriteString("        add_header Access-Control-Allow-Origin * always;\n")
	b.WriteString("        add_header Cache-Control \"public, max-age=31536000, immutable\";\n")
	b.WriteString("    }\n}\n")
	return b.String()
}

// nginxServer is a running nginx.
type nginxServer struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

// startNginx writes the configuration under prefix and starts nginx in
// the foreground. It returns once probe answers 200.
func startNginx(ctx context.Context, bin, prefix, docroot string, workers int, probe string) (*nginxServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(prefix, docroot, addr, workers)), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-e", filepath.Join(prefix, "error.log"), "-p", prefix, "-c", conf, "-g", "daemon off;")
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %w", errNginx, err)
	}
	s := &nginxServer{cmd: cmd, addr: addr, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	deadline, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if err := get(deadline, "http://"+addr+probe); err == nil {
			return s, nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			log, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
			return nil, fmt.Errorf("%w: exited: %v: %s%s", errNginx, err, stderr.String(), log)
		case <-deadline.Done():
			_ = s.Close()
			return nil, fmt.Errorf("%w: no answer on %s: %w", errNginx, addr, deadline.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close stops nginx (SIGQUIT: graceful, workers finish) and waits for it.
func (s *nginxServer) Close() error {
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.done:
		return nil
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("nginx: killed after 5 s")
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Close = true // no idle connections left behind
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
