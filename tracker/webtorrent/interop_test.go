package webtorrent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// interopEvent is one line printed by testdata/interop/clients.mjs.
type interopEvent struct {
	Ev         string `json:"ev"`
	Who        string `json:"who"`
	ID         string `json:"id"`
	Msg        string `json:"msg"`
	Complete   *int   `json:"complete"`
	Incomplete *int   `json:"incomplete"`
	Downloaded *int   `json:"downloaded"`
	List       []struct {
		Type   string `json:"type"`
		Marker string `json:"marker"`
	} `json:"list"`
}

// TestInteropBittorrentTrackerClient drives two instances of
// bittorrent-tracker's own client (web/node_modules, the version
// p2p-media-loader ships with) against this tracker under Node. WebRTC is
// replaced by a stub that produces prepared, uniquely tagged SDP (the real
// one needs a native module that is not built here): the test covers the
// tracker protocol as the real client code speaks it, not WebRTC.
func TestInteropBittorrentTrackerClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node (20 or newer) is needed for the interop test: %v", err)
	}
	btDir, err := filepath.Abs("../../web/node_modules/bittorrent-tracker")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(btDir, "client.js")); err != nil {
		t.Fatalf("bittorrent-tracker is missing; run `npm ci --ignore-scripts` in web/: %v", err)
	}
	tt := startTracker(t, Params{})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "clients.mjs", tt.url, btDir)
	cmd.Dir = "testdata/interop"
	cmd.Env = append(os.Environ(), "STUB_TAG=node")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr.Bytes())
	}
	var events []interopEvent
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		var e interopEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	t.Logf("node client output:\n%s", stdout)

	hexID := func(s string) string { return hex.EncodeToString([]byte(s)) }
	var peers = map[string]string{}
	var scrapes, updates [][3]int
	var received []string
	for _, e := range events {
		switch e.Ev {
		case "warning", "error", "fatal":
			t.Errorf("client %s %s: %s", e.Who, e.Ev, e.Msg)
		case "peer":
			peers[e.Who] = e.ID
		case "scrape":
			scrapes = append(scrapes, [3]int{*e.Complete, *e.Incomplete, *e.Downloaded})
		case "update":
			if e.Who == "b" {
				updates = append(updates, [3]int{*e.Complete, *e.Incomplete, 0})
			}
		case "received":
			for _, r := range e.List {
				received = append(received, r.Type+":"+r.Marker)
			}
		}
	}
	// a got b's offer and b got a's answer, each naming the other peer.
	wantPeers := map[string]string{"a": hexID("-PM0203-bbbbbbbbbbbb"), "b": hexID("-PM0203-aaaaaaaaaaaa")}
	if !reflect.DeepEqual(peers, wantPeers) {
		t.Errorf("peer events = %v, want %v", peers, wantPeers)
	}
	// a's start made stub PCs 1-5 (offers nobody got: it was alone), b's
	// start 6-10; one of b's offers reached a, whose answering PC (11)
	// answer came back to b unchanged.
	validOffer := slices.Contains([]string{"offer:node-6", "offer:node-7", "offer:node-8", "offer:node-9", "offer:node-10"},
		firstOr(received, ""))
	if len(received) != 2 || !validOffer || received[1] != "answer:node-11" {
		t.Errorf("remote descriptions seen by the stubs = %v", received)
	}
	if want := [][3]int{{0, 2, 0}, {1, 1, 1}, {0, 1, 1}}; !reflect.DeepEqual(scrapes, want) {
		t.Errorf("scrapes (complete, incomplete, downloaded) = %v, want %v", scrapes, want)
	}
	if want := [][3]int{{0, 2, 0}, {1, 1, 0}, {0, 1, 0}}; !reflect.DeepEqual(updates, want) {
		t.Errorf("b's announce replies (complete, incomplete) = %v, want %v", updates, want)
	}
	if st := tt.Stats(); st.Totals.OffersRelayed != 1 || st.Totals.AnswersRelayed != 1 || st.Totals.Errors != 0 {
		t.Errorf("tracker totals = %+v", st.Totals)
	}
	if len(events) == 0 || events[len(events)-1].Ev != "done" {
		t.Errorf("the client script did not finish")
	}
}

func firstOr(list []string, def string) string {
	if len(list) == 0 {
		return def
	}
	return list[0]
}
