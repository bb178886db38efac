package superpeer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// golden is testdata/p2pml_golden.json, written by testdata/gen_golden.ts
// with the p2p-media-loader 2.3.1 and hls.js 1.7.4 TypeScript sources.
type golden struct {
	Commands []struct {
		Name    string         `json:"name"`
		Command map[string]any `json:"command"`
		Max     int            `json:"max"`
		Frames  []string       `json:"frames"`
	} `json:"commands"`
	Hashes []struct {
		In         string `json:"in"`
		SHA1Hex    string `json:"sha1hex"`
		StreamHash string `json:"streamHash"`
	} `json:"hashes"`
	ShortIDs []struct {
		In      map[string]any `json:"in"`
		ShortID string         `json:"shortId"`
	} `json:"shortIds"`
	Master struct {
		Playlist string `json:"playlist"`
		SwarmID  string `json:"swarmId"`
		Streams  []struct {
			URL           string `json:"url"`
			Type          string `json:"type"`
			StreamSwarmID string `json:"streamSwarmId"`
			InfoHash      string `json:"infoHash"`
		} `json:"streams"`
	} `json:"master"`
}

func loadGolden(t testing.TB) golden {
	t.Helper()
	b, err := os.ReadFile("testdata/p2pml_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&g); err != nil {
		t.Fatal(err)
	}
	if len(g.Commands) == 0 || len(g.Master.Streams) == 0 {
		t.Fatal("golden file is incomplete")
	}
	return g
}

// commandFromJSON builds a command from the TS object form {c, i, r, ...}.
func commandFromJSON(t testing.TB, m map[string]any) command {
	t.Helper()
	num := func(v any) int64 {
		n, err := v.(json.Number).Int64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	arr := func(v any) []int64 {
		var out []int64
		for _, x := range v.([]any) {
			out = append(out, num(x))
		}
		return out
	}
	c := command{typ: cmdType(num(m["c"]))}
	for k, v := range m {
		switch k {
		case "i":
			c.id = num(v)
		case "r":
			c.req = num(v)
		case "s":
			c.size = num(v)
		case "b":
			c.from = num(v)
		case "l":
			c.loaded = arr(v)
		case "p":
			c.loading = arr(v)
		}
	}
	return c
}

func sameCommand(a, b command) bool {
	return a.typ == b.typ && a.id == b.id && a.req == b.req && a.size == b.size && a.from == b.from &&
		slices.Equal(a.loaded, b.loaded) && slices.Equal(a.loading, b.loading)
}

// TestGoldenEncode encodes each command as the TS code did and compares
// the framed messages byte for byte.
func TestGoldenEncode(t *testing.T) {
	for _, gc := range loadGolden(t).Commands {
		t.Run(gc.Name, func(t *testing.T) {
			body, err := encodeCommand(commandFromJSON(t, gc.Command))
			if err != nil {
				t.Fatal(err)
			}
			frames := frameCommand(body, gc.Max)
			var got []string
			for _, f := range frames {
				got = append(got, hex.EncodeToString(f))
			}
			if !slices.Equal(got, gc.Frames) {
				t.Fatalf("frames\n got %q\nwant %q", got, gc.Frames)
			}
		})
	}
}

// TestGoldenDecode joins and decodes the TS-written frames.
func TestGoldenDecode(t *testing.T) {
	for _, gc := range loadGolden(t).Commands {
		t.Run(gc.Name, func(t *testing.T) {
			var j joiner
			var body []byte
			for i, h := range gc.Frames {
				f, err := hex.DecodeString(h)
				if err != nil {
					t.Fatal(err)
				}
				if !isCommandMessage(f) {
					t.Fatalf("frame %d not recognised as a command", i)
				}
				if body, err = j.add(f); err != nil {
					t.Fatal(err)
				}
				if (body != nil) != (i == len(gc.Frames)-1) {
					t.Fatalf("frame %d of %d: complete=%v", i, len(gc.Frames), body != nil)
				}
			}
			got, err := decodeCommand(body)
			if err != nil {
				t.Fatal(err)
			}
			// Values are regrouped by their high bytes, as the TS decoder
			// also returns them; compare the id lists as sets.
			want := commandFromJSON(t, gc.Command)
			for _, l := range [][]int64{got.loaded, got.loading, want.loaded, want.loading} {
				slices.Sort(l)
			}
			if !sameCommand(got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestGoldenInfoHash(t *testing.T) {
	for _, h := range loadGolden(t).Hashes {
		if got := InfoHash(h.In); got != h.StreamHash {
			t.Errorf("InfoHash(%q) = %q, want %q", h.In, got, h.StreamHash)
		}
	}
}

// TestGoldenShortID feeds variantShortID the attributes behind each of the
// TS generateStreamShortId inputs.
func TestGoldenShortID(t *testing.T) {
	for _, s := range loadGolden(t).ShortIDs {
		attrs := map[string]string{}
		str := func(k string) string {
			if v, ok := s.In[k]; ok && v != nil {
				if n, ok := v.(json.Number); ok {
					return n.String()
				}
				return v.(string)
			}
			return ""
		}
		attrs["BANDWIDTH"] = str("bitrate")
		if c := str("codecs"); c != "" {
			attrs["CODECS"] = c + ",mp4a.40.2"
		}
		if w := str("width"); w != "" {
			attrs["RESOLUTION"] = w + "x" + str("height")
		}
		if f := str("frameRate"); f != "" {
			attrs["FRAME-RATE"] = f
		}
		if v := str("videoRange"); v != "" {
			attrs["VIDEO-RANGE"] = v
		}
		if got := variantShortID(attrs); got != s.ShortID {
			t.Errorf("variantShortID(%v) = %q, want %q", attrs, got, s.ShortID)
		}
	}
}
