//go:build e2e

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser tests drive real headless Chromium against `canopy dev`.
//
// Chromium gathers no ICE candidates on loopback, so each browser test
// re-runs itself inside a fresh network namespace (unshare -n) with a veth
// pair whose one end has 10.213.0.1: there Chromium and the relay nodes
// offer that address as a host candidate and data channels connect, while
// the page itself still loads from http://127.0.0.1 (a secure context). No
// traffic leaves the namespace.
const (
	browserNSEnv  = "CANOPY_BROWSER_NETNS"
	chromiumPath  = "/usr/bin/chromium"
	screenshotEnv = "CANOPY_SCREENSHOT_DIR"
)

// inBrowserNetns reports whether this process is already inside the test
// namespace. If not, it runs the calling test again inside one, streams its
// output, fails t if it fails, and returns false: the caller returns.
func inBrowserNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(browserNSEnv) == "1" {
		return true
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("browser tests need unshare(1) and network namespaces (util-linux): %v", err)
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("browser tests need Chromium at %s (apt-get install chromium; `make setup` does it): %v", chromiumPath, err)
	}
	script := "ip link set lo up && ip link add v0 type veth peer name v1 && " +
		"ip addr add 10.213.0.1/24 dev v0 && ip link set v0 up && ip link set v1 up && " +
		"ip route add default via 10.213.0.2 dev v0 && exec \"$0\" \"$@\""
	args := []string{"-n", "sh", "-c", script, os.Args[0],
		"-test.run", "^" + t.Name() + "$", "-test.v", "-test.count=1", "-test.timeout", "15m"}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), browserNSEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start the test inside a network namespace (unshare -n): %v", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fmt.Println("    [netns] " + sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s inside its network namespace: %v (output above)", t.Name(), err)
	}
	return false
}

// devEnv is `canopy dev` running in this process.
type devEnv struct {
	base    string   // http://127.0.0.1:port of the origin
	tracker string   // the tracker's own HTTP base URL
	relays  []string // the relay nodes' HTTP base URLs
	key     string   // the demo stream's key (the broadcaster credential)
	stderr  *lockedBuffer
}

var (
	playerURLRe  = regexp.MustCompile(`Player:\s+(http://\S+)/watch/demo`)
	trackerURLRe = regexp.MustCompile(`Tracker:\s+(http://\S+)/tracker/stats`)
	relayURLRe   = regexp.MustCompile(`Relay node \d+:\s+(http://\S+)/live/demo/`)
	streamKeyRe  = regexp.MustCompile(`rtmp://\S+/live/(\S+)`)
)

// startDev runs `canopy dev` with extra args and waits for its URLs and for
// the demo stream to be live.
func startDev(t *testing.T, extra ...string) *devEnv {
	t.Helper()
	stdout, stderr := runDevInProcess(t, extra...)
	env := &devEnv{stderr: stderr}
	waitUntil(t, 20*time.Second, "canopy dev prints its URLs", func() bool {
		out := stdout.String()
		m1, m2 := playerURLRe.FindStringSubmatch(out), trackerURLRe.FindStringSubmatch(out)
		if m1 == nil || m2 == nil {
			return false
		}
		env.base, env.tracker = m1[1], m2[1]
		env.relays = nil
		for _, m := range relayURLRe.FindAllStringSubmatch(out, -1) {
			env.relays = append(env.relays, m[1])
		}
		if m := streamKeyRe.FindStringSubmatch(out); m != nil {
			env.key = m[1]
		}
		return len(env.relays) == devNodes && env.key != ""
	})
	waitUntil(t, 60*time.Second, "the demo stream is live with segments", func() bool {
		var streams []struct {
			ID   string `json:"id"`
			Live bool   `json:"live"`
		}
		if err := fetchJSON(env.base+"/api/v1/streams", &streams); err != nil {
			return false
		}
		for _, s := range streams {
			if s.ID == devStream && s.Live {
				return true
			}
		}
		return false
	})
	// The master playlist is served once every rendition has a segment;
	// a player that finds it missing (404) gives up.
	waitUntil(t, 30*time.Second, "the demo's master playlist", func() bool {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(env.base + "/live/" + devStream + "/master.m3u8")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return env
}

func fetchJSON(url string, v any) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// metric sums the samples of a Prometheus counter whose line matches name
// and every label in labels, from a /metrics page.
func metric(t *testing.T, url, name string, labels ...string) float64 {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
lines:
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue lines
			}
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// newBrowser starts headless Chromium and returns its allocator context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate,MediaRouter"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 800),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	// Start the browser now, so each page below is a new tab in it.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
}

// page is one tab.
type page struct {
	name string
	ctx  context.Context
}

// openPage opens url in a new tab of browser.
func openPage(t *testing.T, browser context.Context, name, url string) *page {
	t.Helper()
	p := &page{name: name}
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	p.ctx = ctx
	// The first action on a tab's context opens the tab for the lifetime
	// of that call's context: it must be ctx itself, without a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open tab: %v", name, err)
	}
	runCtx, cancelRun := context.WithTimeout(ctx, 30*time.Second)
	defer cancelRun()
	// Page errors are kept for diagnose.
	const hook = `window.__canopyErrors = [];
		window.addEventListener("error", (e) => window.__canopyErrors.push(String(e.message)));
		window.addEventListener("unhandledrejection", (e) => window.__canopyErrors.push(String(e.reason)));`
	if err := chromedp.Do(runCtx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: hook})
		return err
	}), chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: open %s: %v", name, url, err)
	}
	return p
}

// eval evaluates a JavaScript expression in a page.
func eval[T any](p *page, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// playerStats is window.canopy.stats() of Canopy's player.
type playerStats struct {
	Bytes struct {
		Relay float64 `json:"relay"`
		Peer  float64 `json:"peer"`
		HTTP  float64 `json:"http"`
	} `json:"bytes"`
	PeersConnected int      `json:"peersConnected"`
	Peers          []string `json:"peers"`
	Rendition      string   `json:"rendition"`
	Latency        float64  `json:"latency"`
	Stalls         int      `json:"stalls"`
	StallMS        float64  `json:"stallMs"`
	Playing        bool     `json:"playing"`
	CurrentTime    float64  `json:"currentTime"`
	Verified       int      `json:"verified"`
	Rejected       int      `json:"rejected"`
	DroppedPeers   []string `json:"droppedPeers"`
	UploadEnabled  bool     `json:"uploadEnabled"`
	Mode           string   `json:"mode"`
	// CorruptedUploads counts uploads altered by the ?corrupt=1 test hook.
	CorruptedUploads int `json:"corruptedUploads"`
}

func (p *page) stats() (playerStats, error) {
	return eval[playerStats](p, `window.canopy ? window.canopy.stats() : {}`)
}

// screenshot saves a full screenshot of the page at width x height into
// the screenshot directory and returns its path.
func (p *page) screenshot(t *testing.T, dir, file string, width, height int64) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("%s: viewport: %v", p.name, err)
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// screenshotDir is where screenshots go: $CANOPY_SCREENSHOT_DIR, or a
// directory under the system's temporary directory that outlives the test.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(screenshotEnv)
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "canopy-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// diagnose logs what a page shows, for a failed test.
func (p *page) diagnose(t *testing.T) {
	t.Helper()
	d, err := eval[string](p, `JSON.stringify({
		stats: window.canopy ? window.canopy.stats() : "no window.canopy",
		status: (document.getElementById("status") || {}).textContent,
		note: (document.getElementById("note") || {}).textContent,
		videoError: (document.querySelector("video") || {}).error && document.querySelector("video").error.message,
		readyState: (document.querySelector("video") || {}).readyState,
		errors: window.__canopyErrors || [],
	})`)
	if err != nil {
		t.Logf("%s: cannot read page state: %v", p.name, err)
		return
	}
	t.Logf("%s: %s", p.name, d)
}
