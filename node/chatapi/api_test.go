package chatapi

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/canopylive/canopy/node/comments"
)

const base = "/api/v1/streams/" + testStream

func TestPostListAndFeed(t *testing.T) {
	e := newEnv(t, envOpts{})
	feed := e.subscribe("")
	st := feed.next(t, "reactions", 5*time.Second)
	if c, ok := st.data["counts"].(map[string]any); !ok || len(c) != len(comments.ReactionKinds()) {
		t.Fatalf("initial reactions %v", st.data)
	}
	feed.next(t, "viewers", 5*time.Second)

	status, body := e.do(http.MethodPost, base+"/comments", map[string]string{"author": "Ann", "text": "hello 🌲"}, "")
	if status != http.StatusCreated || body["text"] != "hello 🌲" || len(body["id"].(string)) != comments.IDLength {
		t.Fatalf("POST: %d %v", status, body)
	}
	ev := feed.next(t, "comment", 5*time.Second)
	if ev.data["id"] != body["id"] || ev.id != body["cursor"] {
		t.Fatalf("event %+v, posted %v", ev, body)
	}
	post2 := func(text string) map[string]any {
		_, b := e.do(http.MethodPost, base+"/comments", map[string]string{"author": "Bo", "text": text}, "")
		return b
	}
	second, third := post2("two"), post2("three")

	_, list := e.do(http.MethodGet, base+"/comments?limit=2", nil, "")
	got := list["comments"].([]any)
	if len(got) != 2 || got[0].(map[string]any)["id"] != second["id"] || got[1].(map[string]any)["id"] != third["id"] {
		t.Fatalf("latest 2: %v", got)
	}
	_, since := e.do(http.MethodGet, base+"/comments?since="+body["cursor"].(string), nil, "")
	if n := len(since["comments"].([]any)); n != 2 {
		t.Fatalf("since the first: %d comments, want 2", n)
	}
	// A reconnecting feed is replayed what came after its Last-Event-ID.
	again := e.subscribe(body["cursor"].(string))
	if ev := again.next(t, "comment", 5*time.Second); ev.data["id"] != second["id"] {
		t.Fatalf("replay started at %v, want %v", ev.data["id"], second["id"])
	}
	if ev := again.next(t, "comment", 5*time.Second); ev.data["id"] != third["id"] {
		t.Fatalf("replay second %v", ev.data["id"])
	}
}

// TestBadInputStoresNothing: every refusal is a 4xx with a message, and
// the store is unchanged.
func TestBadInputStoresNothing(t *testing.T) {
	e := newEnv(t, envOpts{})
	cases := []struct {
		name   string
		path   string
		body   any
		status int
		msg    string
	}{
		{"oversize text", base + "/comments", map[string]string{"author": "a", "text": strings.Repeat("x", 501)}, 400, "too long"},
		{"invalid UTF-8", base + "/comments", []byte("{\"author\":\"a\",\"text\":\"bad \xff\xfe\"}"), 400, "UTF-8"},
		{"control character", base + "/comments", map[string]string{"author": "a", "text": "beep\u0007"}, 400, "control"},
		{"bidi override", base + "/comments", map[string]string{"author": "a", "text": "x\u202ey"}, 400, "control"},
		{"empty text", base + "/comments", map[string]string{"author": "a", "text": "  "}, 400, "empty"},
		{"long author", base + "/comments", map[string]string{"author": strings.Repeat("a", 41), "text": "hi"}, 400, "too long"},
		{"unknown field", base + "/comments", map[string]string{"author": "a", "text": "hi", "admin": "1"}, 400, "unknown field"},
		{"not JSON", base + "/comments", "author=a&text=hi", 400, "JSON"},
		{"huge body", base + "/comments", map[string]string{"author": "a", "text": strings.Repeat("x", 9000)}, 413, "over"},
		{"unknown stream", "/api/v1/streams/nope/comments", map[string]string{"author": "a", "text": "hi"}, 404, "no stream"},
		{"bad stream name", "/api/v1/streams/a%20b/comments", map[string]string{"author": "a", "text": "hi"}, 400, "invalid stream"},
		{"unknown reaction", base + "/reactions", map[string]string{"kind": "boo"}, 400, "reaction"},
	}
	for _, c := range cases {
		status, body := e.do(http.MethodPost, c.path, c.body, "")
		msg, _ := body["error"].(string)
		if status != c.status || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, status, msg, c.status, c.msg)
		}
	}
	if n := e.count(); n != 0 {
		t.Fatalf("%d comments stored from bad input", n)
	}

	// A flood from one author: the burst passes, then 429s, and only the
	// accepted ones are stored.
	accepted := 0
	for i := range 12 {
		status, body := e.do(http.MethodPost, base+"/comments", map[string]string{"author": "flood", "text": "spam " + string(rune('a'+i))}, "")
		switch status {
		case http.StatusCreated:
			accepted++
		case http.StatusTooManyRequests:
			if !strings.Contains(body["error"].(string), "slow down") {
				t.Errorf("429 message %q", body["error"])
			}
		default:
			t.Fatalf("flood post %d: %d %v", i, status, body)
		}
	}
	if accepted != comments.DefaultAuthorBurst || e.count() != accepted {
		t.Fatalf("flood: %d accepted, %d stored; want %d", accepted, e.count(), comments.DefaultAuthorBurst)
	}
}

func TestModerationNeedsCredential(t *testing.T) {
	e := newEnv(t, envOpts{signer: true})
	feed := e.subscribe("")
	_, c := e.do(http.MethodPost, base+"/comments", map[string]string{"author": "troll", "text": "spam"}, "")
	id := c["id"].(string)
	if s, _ := e.do(http.MethodDelete, base+"/comments/"+id, nil, ""); s != http.StatusUnauthorized {
		t.Fatalf("delete without credential: %d", s)
	}
	if s, _ := e.do(http.MethodDelete, base+"/comments/"+id, nil, "wrong"); s != http.StatusForbidden {
		t.Fatalf("delete with a wrong credential: %d", s)
	}
	if !e.store.Has(id) {
		t.Fatal("an unauthorized delete removed the comment")
	}
	status, signed := e.do(http.MethodDelete, base+"/comments/"+id, nil, streamKey)
	if status != http.StatusOK || signed["kind"] != "delete" {
		t.Fatalf("delete: %d %v", status, signed)
	}
	if ev := feed.next(t, "delete", 5*time.Second); ev.data["id"] != id {
		t.Fatalf("delete event %v", ev.data)
	}
	if e.store.Has(id) {
		t.Fatal("the comment is still stored")
	}
	if s, _ := e.do(http.MethodPost, base+"/bans", map[string]string{"author": "troll"}, streamKey); s != http.StatusOK {
		t.Fatalf("ban: %d", s)
	}
	feed.next(t, "ban", 5*time.Second)
	if s, b := e.do(http.MethodPost, base+"/comments", map[string]string{"author": "troll", "text": "again"}, ""); s != http.StatusForbidden {
		t.Fatalf("banned author posted: %d %v", s, b)
	}
	s, ann := e.do(http.MethodPost, base+"/announcements", map[string]any{"kind": "news", "text": "Doors at 8", "duration_s": 2}, streamKey)
	if s != http.StatusCreated {
		t.Fatalf("announce: %d %v", s, ann)
	}
	ev := feed.next(t, "announcement", 5*time.Second)
	if ev.data["text"] != "Doors at 8" || ev.data["remaining_ms"].(float64) <= 0 || ev.data["remaining_ms"].(float64) > 2000 {
		t.Fatalf("announcement event %v", ev.data)
	}
	// A late viewer sees it while it shows.
	late := e.subscribe("")
	if ev := late.next(t, "announcement", 5*time.Second); ev.data["id"] != ann["id"] {
		t.Fatalf("late viewer's announcement %v", ev.data)
	}
	for _, bad := range []map[string]any{
		{"kind": "ad", "text": "buy", "duration_s": 5},
		{"kind": "news", "text": "x", "duration_s": 0},
		{"kind": "news", "text": strings.Repeat("x", 300), "duration_s": 5},
	} {
		if s, _ := e.do(http.MethodPost, base+"/announcements", bad, streamKey); s != http.StatusBadRequest {
			t.Errorf("announcement %v: %d", bad, s)
		}
	}
}

// TestSignedModeration: a node without the key takes an action the origin
// signed and refuses one signed with another key.
func TestSignedModeration(t *testing.T) {
	origin := newEnv(t, envOpts{signer: true})
	_, c := origin.do(http.MethodPost, base+"/comments", map[string]string{"author": "a", "text": "x"}, "")
	_, signed := origin.do(http.MethodDelete, base+"/comments/"+c["id"].(string), nil, streamKey)

	relay2 := newEnvTrusting(t, origin)
	_, rc := relay2.do(http.MethodPost, base+"/comments", map[string]string{"author": "a", "text": "on the relay"}, "")
	if s, b := relay2.do(http.MethodDelete, base+"/comments/"+rc["id"].(string), nil, streamKey); s != http.StatusForbidden ||
		!strings.Contains(b["error"].(string), "moderation") {
		t.Fatalf("relay signing: %d %v", s, b)
	}
	// The origin's signed delete of another comment ID is taken as is.
	if s, b := relay2.do(http.MethodPost, base+"/moderation", signed["signed"].(string), ""); s != http.StatusOK {
		t.Fatalf("signed action on the relay: %d %v", s, b)
	}
	// The same with a key the relay does not trust.
	other := newEnv(t, envOpts{signer: true})
	_, forged := other.do(http.MethodDelete, base+"/comments/"+rc["id"].(string), nil, streamKey)
	raw, _ := base64.StdEncoding.DecodeString(forged["signed"].(string))
	if s, b := relay2.do(http.MethodPost, base+"/moderation", raw, ""); s != http.StatusForbidden {
		t.Fatalf("forged action: %d %v", s, b)
	}
	if !relay2.store.Has(rc["id"].(string)) {
		t.Fatal("a forged delete removed the comment")
	}
}

func TestReactionsReachTheFeed(t *testing.T) {
	e := newEnv(t, envOpts{})
	feed := e.subscribe("")
	feed.next(t, "reactions", 5*time.Second)
	for range 3 {
		if s, _ := e.do(http.MethodPost, base+"/reactions", map[string]string{"kind": "clap"}, ""); s != http.StatusAccepted {
			t.Fatalf("reaction: %d", s)
		}
	}
	for {
		ev := feed.next(t, "reactions", 5*time.Second)
		if ev.data["counts"].(map[string]any)["clap"] == float64(3) {
			break
		}
	}
	_, r := e.do(http.MethodGet, base+"/reactions", nil, "")
	if r["counts"].(map[string]any)["clap"] != float64(3) {
		t.Fatalf("GET reactions %v", r)
	}
	// A flood of taps from one address is cut off.
	limited := false
	for range 40 {
		if s, _ := e.do(http.MethodPost, base+"/reactions", map[string]string{"kind": "like"}, ""); s == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("40 reactions at once were all accepted")
	}
}
