package superpeer

import (
	"crypto/rand"
	"maps"
	"strings"
	"testing"

	"github.com/canopylive/canopy/proto/manifest"
)

// goldenLadder is the ladder whose master playlist gen_golden.ts parsed
// with hls.js and p2p-media-loader-hlsjs.
var goldenLadder = []manifest.Rendition{
	{Name: "1080p", Width: 1920, Height: 1080, Bandwidth: 6000000, AverageBandwidth: 5000000, Codecs: "avc1.640028,mp4a.40.2", FrameRate: 29.97},
	{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3000000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 25},
	{Name: "480p", Width: 854, Height: 480, Bandwidth: 1400000, AverageBandwidth: 1200000, Codecs: "avc1.4d401e,mp4a.40.2", FrameRate: 30},
	{Name: "src", Bandwidth: 800},
	{Name: "audio", Bandwidth: 128000, Codecs: "mp4a.40.2"},
	{Name: "hevc", Width: 3840, Height: 2160, Bandwidth: 12000000, Codecs: "hvc1.1.6.L150.B0,mp4a.40.2", FrameRate: 59.94},
}

// TestStreamSwarmIDMatchesBrowser checks the per-rendition swarm ids and
// info hashes against what hls.js + p2p-media-loader-hlsjs computed from
// the same master playlist.
func TestStreamSwarmIDMatchesBrowser(t *testing.T) {
	g := loadGolden(t).Master
	playlist, err := manifest.HLSMultivariant(goldenLadder)
	if err != nil {
		t.Fatal(err)
	}
	if string(playlist) != g.Playlist {
		t.Fatalf("manifest.HLSMultivariant output changed; regenerate testdata (see gen_golden.ts)\ngot\n%s\nwant\n%s", playlist, g.Playlist)
	}
	stream, broadcast, _ := strings.Cut(strings.TrimPrefix(g.SwarmID, "canopy:"), ":")
	if SwarmID(stream, broadcast) != g.SwarmID {
		t.Fatalf("SwarmID = %q, want %q", SwarmID(stream, broadcast), g.SwarmID)
	}
	byName := map[string]manifest.Rendition{}
	for _, r := range goldenLadder {
		byName[r.Name] = r
	}
	for _, want := range g.Streams {
		parts := strings.Split(want.URL, "/") // .../<name>/index.m3u8
		name := parts[len(parts)-2]
		r, ok := byName[name]
		if !ok || want.Type != "main" {
			t.Fatalf("unexpected golden stream %+v", want)
		}
		got, err := StreamSwarmID(stream, broadcast, r)
		if err != nil {
			t.Fatal(err)
		}
		if got != want.StreamSwarmID {
			t.Errorf("%s: swarm id %q, want %q", name, got, want.StreamSwarmID)
		}
		if h := InfoHash(got); h != want.InfoHash || len(h) != 20 {
			t.Errorf("%s: info hash %q, want %q", name, h, want.InfoHash)
		}
		delete(byName, name)
	}
	if len(byName) != 0 {
		t.Fatalf("renditions without a golden stream: %v", byName)
	}
}

func TestStreamSwarmIDRejectsInvalidRendition(t *testing.T) {
	if _, err := StreamSwarmID("demo", "b1", manifest.Rendition{Name: "x"}); err == nil {
		t.Fatal("rendition without bandwidth accepted")
	}
}

func TestNewPeerID(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		id, err := NewPeerID(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 20 || !strings.HasPrefix(id, "-CN0100-") {
			t.Fatalf("peer id %q", id)
		}
		for _, c := range id[8:] {
			if !strings.ContainsRune(peerIDAlphabet, c) {
				t.Fatalf("peer id %q has %q", id, c)
			}
		}
		if seen[id] {
			t.Fatalf("peer id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestParseAttrList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{`BANDWIDTH=800`, map[string]string{"BANDWIDTH": "800"}},
		{`BANDWIDTH=3000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000`,
			map[string]string{"BANDWIDTH": "3000000", "CODECS": "avc1.64001f,mp4a.40.2", "RESOLUTION": "1280x720", "FRAME-RATE": "25.000"}},
		{`A="x",B=2`, map[string]string{"A": "x", "B": "2"}},
		{`A="unterminated`, map[string]string{"A": "unterminated"}},
		{`junk`, map[string]string{}},
	} {
		if got := parseAttrList(tc.in); !maps.Equal(got, tc.want) {
			t.Errorf("parseAttrList(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestJSNumberString(t *testing.T) {
	for in, want := range map[string]string{
		"29.970": "29.97", "25.000": "25", "59.940": "59.94", "30": "30", "": "", "abc": "", "0.000": "0",
	} {
		if got := jsNumberString(in); got != want {
			t.Errorf("jsNumberString(%q) = %q, want %q", in, got, want)
		}
	}
}
