package whep

import (
	"fmt"
	"strings"
	"testing"
)

// cand is a parsed candidate, for comparison: "-" for a nil mid.
type cand struct {
	candidate, mid string
	index          uint16
}

func candsOf(t *testing.T, f sdpFrag) []cand {
	t.Helper()
	var out []cand
	for _, c := range f.candidates {
		mid := "-"
		if c.SDPMid != nil {
			mid = *c.SDPMid
		}
		if c.SDPMLineIndex == nil {
			t.Fatalf("candidate %q without an m-line index", c.Candidate)
		}
		out = append(out, cand{c.Candidate, mid, *c.SDPMLineIndex})
	}
	return out
}

const (
	c1 = "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"
	c2 = "candidate:2 1 udp 2130706431 127.0.0.1 5001 typ host"
)

func TestParseFrag(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		b.WriteString("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n")
		for i := range n {
			fmt.Fprintf(&b, "a=candidate:%d 1 udp 1 127.0.0.1 %d typ host\r\n", i, 1000+i)
		}
		return b.String()
	}
	cases := []struct {
		name        string
		in          string
		ufrag, pwd  string
		cands       []cand
		ncands      int // when cands is nil
		errContains string
	}{
		{name: "empty"},
		{name: "credentials only", in: "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n",
			ufrag: "EsAw", pwd: "P2uYro0UCOQ4zxjKXaWCBui1"},
		{name: "RFC 8840 fragment",
			in: "a=ice-options:trickle ice2\r\na=group:BUNDLE 0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n" +
				"a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\na=" + c1 + "\r\na=" + c2 + "\r\na=end-of-candidates\r\n",
			ufrag: "EsAw", pwd: "P2uYro0UCOQ4zxjKXaWCBui1",
			cands: []cand{{c1, "0", 0}, {c2, "0", 0}}},
		{name: "LF line ends", in: "m=audio 9 RTP/AVP 0\na=mid:a\na=" + c1 + "\n",
			cands: []cand{{c1, "a", 0}}},
		{name: "two media sections", in: "m=video 9 RTP/AVP 0\r\na=mid:v\r\na=" + c1 + "\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\na=" + c2 + "\r\n",
			cands: []cand{{c1, "v", 0}, {c2, "a", 1}}},
		{name: "media sections without mid", in: "m=video 9 RTP/AVP 0\r\na=" + c1 + "\r\nm=audio 9 RTP/AVP 0\r\na=" + c2 + "\r\n",
			cands: []cand{{c1, "-", 0}, {c2, "-", 1}}},
		{name: "mid does not leak into the next section", in: "m=video 9 RTP/AVP 0\r\na=mid:v\r\nm=audio 9 RTP/AVP 0\r\na=" + c2 + "\r\n",
			cands: []cand{{c2, "-", 1}}},
		{name: "candidate before any media section", in: "a=" + c1 + "\r\n",
			cands: []cand{{c1, "-", 0}}},
		{name: "end of candidates alone", in: "a=end-of-candidates\r\n"},
		{name: "empty candidate (end of candidates)", in: "a=candidate:\r\n", cands: []cand{{"candidate:", "-", 0}}},
		{name: "64 candidates", in: many(64), ncands: 64},
		{name: "65 candidates", in: many(65), errContains: "more than 64 candidates"},
		{name: "ufrag without pwd", in: "a=ice-ufrag:EsAw\r\na=" + c1 + "\r\n", errContains: "together"},
		{name: "pwd without ufrag", in: "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n", errContains: "together"},
		{name: "empty ufrag with pwd", in: "a=ice-ufrag:\r\na=ice-pwd:x\r\n", errContains: "together"},
		{name: "not SDP", in: "hello\x00world", ufrag: "", pwd: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseFrag(tc.in)
			if tc.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errContains) {
					t.Fatalf("error %v, want one containing %q", err, tc.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.ufrag != tc.ufrag || f.pwd != tc.pwd {
				t.Errorf("credentials %q/%q, want %q/%q", f.ufrag, f.pwd, tc.ufrag, tc.pwd)
			}
			got := candsOf(t, f)
			if tc.cands == nil {
				if len(got) != tc.ncands {
					t.Errorf("%d candidates, want %d", len(got), tc.ncands)
				}
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.cands) {
				t.Errorf("candidates %v, want %v", got, tc.cands)
			}
		})
	}
}

// answerSDP is shaped like pion's answers: credentials in every media
// section, candidates in the first one.
const answerSDP = "v=0\r\n" +
	"o=- 1 2 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=fingerprint:sha-256 AA:BB\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 106\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:active\r\n" +
	"a=mid:0\r\n" +
	"a=ice-ufrag:srvUfrag\r\n" +
	"a=ice-pwd:srvPassword0123456789ab\r\n" +
	"a=rtpmap:106 H264/90000\r\n" +
	"a=" + c1 + "\r\n" +
	"a=" + c2 + "\r\n" +
	"a=end-of-candidates\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=mid:1\r\n" +
	"a=ice-ufrag:srvUfrag\r\n" +
	"a=ice-pwd:srvPassword0123456789ab\r\n" +
	"a=rtpmap:111 opus/48000/2\r\n"

func TestLocalFrag(t *testing.T) {
	cases := []struct {
		name, sdp, want string
	}{
		{"empty", "", ""},
		// The lines keep their places, as in RFC 9725's example of an
		// ICE restart answer; the credentials come once.
		{"pion answer", answerSDP,
			"m=video 9 UDP/TLS/RTP/SAVPF 106\r\n" +
				"a=mid:0\r\n" +
				"a=ice-ufrag:srvUfrag\r\n" +
				"a=ice-pwd:srvPassword0123456789ab\r\n" +
				"a=" + c1 + "\r\n" +
				"a=" + c2 + "\r\n" +
				"a=end-of-candidates\r\n" +
				"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
				"a=mid:1\r\n"},
		{"session-level credentials",
			"v=0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=rtpmap:0 PCMU/8000\r\na=" + c1 + "\r\n",
			"a=ice-ufrag:u\r\na=ice-pwd:p\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=" + c1 + "\r\n"},
		{"no candidates", "v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\n",
			"m=audio 9 RTP/AVP 0\r\na=mid:0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := localFrag(tc.sdp); got != tc.want {
				t.Errorf("localFrag:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}

	// What localFrag writes, parseFrag reads back.
	f, err := parseFrag(localFrag(answerSDP))
	if err != nil {
		t.Fatal(err)
	}
	if f.ufrag != "srvUfrag" || f.pwd != "srvPassword0123456789ab" {
		t.Errorf("round trip credentials %q/%q", f.ufrag, f.pwd)
	}
	if got, want := fmt.Sprint(candsOf(t, f)), fmt.Sprint([]cand{{c1, "0", 0}, {c2, "0", 0}}); got != want {
		t.Errorf("round trip candidates %s, want %s", got, want)
	}
}

// FuzzParseFrag: parseFrag never panics, never returns more than
// maxFragCandidates candidates, and accepts credentials only in pairs; each
// candidate it returns is a candidate line's value with its m-line index.
func FuzzParseFrag(f *testing.F) {
	for _, seed := range []string{
		"",
		answerSDP,
		localFrag(answerSDP),
		"a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=" + c1 + "\r\n",
		"a=ice-ufrag:x\n",
		"m=\nm=\na=candidate:\na=mid:\n",
		strings.Repeat("a=candidate:1 1 udp 1 127.0.0.1 1 typ host\r\n", 65),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fr, err := parseFrag(in)
		if len(fr.candidates) > maxFragCandidates {
			t.Fatalf("%d candidates", len(fr.candidates))
		}
		if err == nil && (fr.ufrag == "") != (fr.pwd == "") {
			t.Fatalf("accepted ufrag %q without pwd %q", fr.ufrag, fr.pwd)
		}
		sections := strings.Count("\n"+in, "\nm=")
		for _, c := range fr.candidates {
			if !strings.HasPrefix(c.Candidate, "candidate:") || strings.ContainsAny(c.Candidate, "\n") {
				t.Fatalf("candidate %q", c.Candidate)
			}
			if c.SDPMLineIndex == nil || int(*c.SDPMLineIndex) >= max(sections, 1) {
				t.Fatalf("candidate %q: m-line index %v of %d sections", c.Candidate, c.SDPMLineIndex, sections)
			}
		}
	})
}
