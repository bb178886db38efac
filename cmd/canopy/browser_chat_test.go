//go:build e2e

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserChat is the comments issue's acceptance point 6, and the
// "every open chat panel" half of point 4: two Chromium pages on the demo
// stream, one served by the origin and one by relay node 1, so everything
// the second page sees crossed gossipsub.
//   - a comment typed and sent in one page appears in the other within 1 s;
//   - a reaction tapped in one moves the counter in the other;
//   - an announcement appears on both and disappears after its duration;
//   - a comment the broadcaster deletes disappears from both.
func TestBrowserChat(t *testing.T) {
	if !inBrowserNetns(t) {
		return
	}
	env := startDev(t, "--demo-size", "426x240")
	browser := newBrowser(t)
	a := openPage(t, browser, "origin-page", env.base+"/watch/demo")
	b := openPage(t, browser, "relay-page", env.relays[0]+"/watch/demo")
	for _, p := range []*page{a, b} {
		waitUntil(t, 20*time.Second, p.name+" chat connected", func() bool {
			ok, err := eval[bool](p, `document.querySelector("#chat")?.dataset.connected === "true"`)
			return err == nil && ok
		})
	}
	defer func() {
		if t.Failed() {
			a.diagnose(t)
			b.diagnose(t)
		}
	}()

	// 1. A comment typed in the origin's page.
	text := fmt.Sprintf("hello from the origin page %d", time.Now().UnixNano())
	act(t, a, chromedp.SendKeys(chromedp.CSS("#chat-author"), "Ann"),
		chromedp.SendKeys(chromedp.CSS("#chat-text"), text))
	sent := time.Now()
	act(t, a, chromedp.Click(chromedp.CSS("#chat-send")))
	shown := `[...document.querySelectorAll("#chat-list [data-id] .chat-text")].some((e) => e.textContent === ` + jsString(text) + `)`
	waitFor(t, b, 5*time.Second, shown)
	elapsed := time.Since(sent)
	t.Logf("comment sent on the origin's page shown on the relay's page after %v", elapsed.Round(time.Millisecond))
	if elapsed > time.Second {
		t.Errorf("the comment took %v to appear in the other page, limit 1 s", elapsed)
	}
	if ok, _ := eval[bool](a, shown); !ok {
		t.Error("the sender's own page does not show its comment")
	}
	if errText, _ := eval[string](a, `document.querySelector("#chat-error").textContent`); errText != "" {
		t.Errorf("the sender's page shows an error: %q", errText)
	}

	// 2. A reaction on the relay's page moves the origin page's counter.
	count := `Number(document.querySelector('#reactions button[data-kind="clap"] .count').textContent)`
	before, err := eval[float64](a, count)
	if err != nil {
		t.Fatal(err)
	}
	tapped := time.Now()
	act(t, b, chromedp.Click(chromedp.CSS(`#reactions button[data-kind="clap"]`)))
	waitFor(t, a, 10*time.Second, fmt.Sprintf("%s >= %v", count, before+1))
	t.Logf("reaction on the relay's page counted on the origin's page after %v (tallies every 2 s)", time.Since(tapped).Round(time.Millisecond))

	// 3. An announcement by the broadcaster, for 3 s.
	const duration = 3 * time.Second
	var ann struct {
		ID string `json:"id"`
	}
	posted := time.Now()
	apiCall(t, http.MethodPost, env.base+"/api/v1/streams/demo/announcements", env.key,
		map[string]any{"kind": "news", "text": "Doors open at eight", "duration_s": duration.Seconds()}, http.StatusCreated, &ann)
	visible := `!!document.querySelector('#announcements [data-id="` + ann.ID + `"]')`
	for _, p := range []*page{a, b} {
		waitFor(t, p, 2*time.Second, visible)
	}
	t.Logf("announcement shown on both pages after %v", time.Since(posted).Round(time.Millisecond))
	for _, p := range []*page{a, b} {
		waitFor(t, p, duration+3*time.Second, "!"+visible)
		gone := time.Since(posted)
		if gone < duration-500*time.Millisecond {
			t.Errorf("%s: the announcement went after %v, before its %v", p.name, gone, duration)
		}
		t.Logf("%s: announcement gone after %v (duration %v)", p.name, gone.Round(time.Millisecond), duration)
	}

	// 4. The broadcaster deletes the comment: it leaves both panels.
	id, err := eval[string](b, `[...document.querySelectorAll("#chat-list [data-id]")].find((e) => e.querySelector(".chat-text")?.textContent === `+jsString(text)+`)?.dataset.id ?? ""`)
	if err != nil || id == "" {
		t.Fatalf("comment id on the relay's page: %q %v", id, err)
	}
	apiCall(t, http.MethodDelete, env.base+"/api/v1/streams/demo/comments/"+id, env.key, nil, http.StatusOK, nil)
	for _, p := range []*page{a, b} {
		waitFor(t, p, 5*time.Second, `!document.querySelector('#chat-list [data-id="`+id+`"]')`)
	}
}

// act runs browser actions on a page.
func act(t *testing.T, p *page, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
}

// waitFor polls a JavaScript condition in p every 10 ms and returns how
// long it took to hold.
func waitFor(t *testing.T, p *page, d time.Duration, cond string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, err := eval[bool](p, cond)
		if err == nil && ok {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: after %v, still not %s (err %v)", p.name, d, cond, err)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// apiCall sends a JSON request with the broadcaster's credential and
// decodes the answer into out.
func apiCall(t *testing.T, method, url, key string, body any, want int, out any) {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req, err := http.NewRequest(method, url, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		var e map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("%s %s: %d %v, want %d", method, url, resp.StatusCode, e, want)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}
