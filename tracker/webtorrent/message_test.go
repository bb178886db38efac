package webtorrent

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

var testLimits = limits{maxOffers: 3, maxNumWant: 4, maxHashes: 2}

func TestParseMessage(t *testing.T) {
	h, p := `"`+id20("hash")+`"`, `"`+id20("peer")+`"`
	offer := `{"offer":{"type":"offer","sdp":"s"},"offer_id":"oid"}`
	tests := []struct {
		name    string
		msg     string
		err     error
		check   func(*request) bool
		partial bool // the error reply can name action and info_hash
	}{
		{"started", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"event":"started","numwant":2,"offers":[` + offer + `]}`,
			nil, func(r *request) bool {
				return r.event == eventStarted && r.numWant == 2 && len(r.offers) == 1 &&
					string(r.offers[0].id) == `"oid"` && string(r.offers[0].sdp) == `{"type":"offer","sdp":"s"}`
			}, false},
		{"no event is update", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `}`,
			nil, func(r *request) bool { return r.event == eventUpdate && r.numWant == 0 && !r.isAnswer() }, false},
		{"paused is update", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"event":"paused"}`,
			nil, func(r *request) bool { return r.event == eventUpdate }, false},
		{"numwant defaults to offers", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"offers":[` + offer + `,` + offer + `]}`,
			nil, func(r *request) bool { return r.numWant == 2 }, false},
		{"numwant capped", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"numwant":50}`,
			nil, func(r *request) bool { return r.numWant == 4 }, false},
		{"negative numwant", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"numwant":-3}`,
			nil, func(r *request) bool { return r.numWant == 0 }, false},
		{"offers trimmed", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"offers":[` + offer + `,` + offer + `,` + offer + `,` + offer + `,` + offer + `]}`,
			nil, func(r *request) bool { return len(r.offers) == 3 && r.numWant == 3 }, false},
		{"left 0 is complete", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"left":0}`,
			nil, func(r *request) bool { return r.complete }, false},
		{"answer", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"to_peer_id":` + p + `,"answer":{"type":"answer"},"offer_id":"\u00ff\u0001"}`,
			nil, func(r *request) bool {
				return r.isAnswer() && r.toPeerID == binIDOf(id20("peer")) && string(r.offerID) == `"\u00ff\u0001"`
			}, false},
		{"binary ids", `{"action":"announce","info_hash":"\u0000\u00ff` + id20("")[2:] + `","peer_id":` + p + `}`,
			nil, func(r *request) bool { return r.infoHash[0] == 0 && r.infoHash[1] == 0xff }, false},
		{"scrape string", `{"action":"scrape","info_hash":` + h + `}`,
			nil, func(r *request) bool { return len(r.hashes) == 1 && r.hashes[0] == binIDOf(id20("hash")) }, false},
		{"scrape list", `{"action":"scrape","info_hash":[` + h + `,` + p + `]}`,
			nil, func(r *request) bool { return len(r.hashes) == 2 && r.hashes[1] == binIDOf(id20("peer")) }, false},

		{"not JSON", `{`, ErrBadJSON, nil, false},
		{"null", `null`, ErrUnknownAction, nil, false},
		{"action not a string", `{"action":1}`, ErrBadJSON, nil, false},
		{"unknown action", `{"action":"connect"}`, ErrUnknownAction, nil, false},
		{"short info_hash", `{"action":"announce","info_hash":"abc","peer_id":` + p + `}`, ErrBadInfoHash, nil, false},
		{"info_hash not a string", `{"action":"announce","info_hash":[1],"peer_id":` + p + `}`, ErrBadInfoHash, nil, false},
		{"code point over 255", `{"action":"announce","info_hash":"\u0100` + id20("")[1:] + `","peer_id":` + p + `}`, ErrBadInfoHash, nil, false},
		{"lone surrogate", `{"action":"announce","info_hash":"\ud800` + id20("")[1:] + `","peer_id":` + p + `}`, ErrBadInfoHash, nil, false},
		{"long peer_id", `{"action":"announce","info_hash":` + h + `,"peer_id":"` + id20("") + `x"}`, ErrBadPeerID, nil, true},
		{"bad event", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"event":7}`, ErrBadEvent, nil, true},
		{"offer not an object", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"offers":[{"offer":[],"offer_id":"x"}]}`, ErrBadOffer, nil, true},
		{"offer_id not a string", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"offers":[{"offer":{},"offer_id":5}]}`, ErrBadOffer, nil, true},
		{"answer not an object", `{"action":"announce","info_hash":` + h + `,"peer_id":` + p + `,"answer":"x","to_peer_id":` + p + `,"offer_id":"o"}`, ErrBadAnswer, nil, true},
		{"too many scrape hashes", `{"action":"scrape","info_hash":[` + h + `,` + h + `,` + h + `]}`, ErrTooManyHashes, nil, false},
		{"empty scrape list", `{"action":"scrape","info_hash":[]}`, ErrBadInfoHash, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := parseMessage([]byte(tc.msg), testLimits)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.err == nil && !tc.check(req) {
				t.Fatalf("request = %+v", req)
			}
			if tc.partial && (req == nil || !req.hashKnown || req.action != actionAnnounce) {
				t.Fatalf("partial request = %+v, want action and info_hash", req)
			}
		})
	}
}

func TestBinIDRoundTrip(t *testing.T) {
	for _, s := range []string{id20("ascii"), binaryString(0), binaryString(0x80), "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13"} {
		raw, _ := json.Marshal(s)
		id, ok := decodeBinID(raw)
		if !ok {
			t.Fatalf("decode %q failed", raw)
		}
		back, _ := id.MarshalJSON()
		var got string
		if err := json.Unmarshal(back, &got); err != nil || got != s {
			t.Fatalf("round trip %q -> %q (%v)", s, got, err)
		}
	}
}

func TestClientAddrAndNetwork(t *testing.T) {
	tests := []struct {
		remote, xff string
		trust       bool
		addr, net   string
	}{
		{"192.0.2.7:5000", "", false, "192.0.2.7", "192.0.2.0/24"},
		{"192.0.2.7:5000", "10.0.0.1", false, "192.0.2.7", "192.0.2.0/24"},
		{"192.0.2.7:5000", "10.9.8.7", true, "10.9.8.7", "10.9.8.0/24"},
		{"192.0.2.7:5000", "6.6.6.6, 10.9.8.7", true, "10.9.8.7", "10.9.8.0/24"},
		{"192.0.2.7:5000", "garbage", true, "192.0.2.7", "192.0.2.0/24"},
		{"[2001:db8:1:2:3::9]:443", "", false, "2001:db8:1:2:3::9", "2001:db8:1:2::/64"},
		{"[::ffff:10.1.1.1]:443", "", false, "10.1.1.1", "10.1.1.0/24"},
		{"@", "", false, "invalid IP", "invalid Prefix"},
	}
	for _, tc := range tests {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		a := clientAddr(r, tc.trust)
		if a.String() != tc.addr || networkOf(a).String() != tc.net {
			t.Errorf("%s xff=%q trust=%v: %v %v, want %s %s", tc.remote, tc.xff, tc.trust, a, networkOf(a), tc.addr, tc.net)
		}
	}
	if networkOf(netip.MustParseAddr("fe80::1%eth0")).String() != "fe80::/64" {
		t.Error("zoned address")
	}
}

func TestTokenBucket(t *testing.T) {
	t0 := time.Unix(0, 0)
	b := newTokenBucket(2, 3, t0)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, true}, {0, false}, // burst of 3
		{400 * time.Millisecond, false}, {500 * time.Millisecond, true}, {500 * time.Millisecond, false},
		{10 * time.Second, true}, {10 * time.Second, true}, {10 * time.Second, true}, {10 * time.Second, false}, // capped at burst
		{9 * time.Second, false}, // clock going back gives nothing
	}
	for i, s := range steps {
		if got := b.allow(t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d at %v: %v, want %v", i, s.at, got, s.want)
		}
	}
}

func TestParamsDefaults(t *testing.T) {
	p, err := Params{}.withDefaults()
	if err != nil || p.MaxMessageBytes != 64<<10 || p.MaxOffersPerAnnounce != 10 || p.MaxNumWant != 10 ||
		p.AnnounceInterval != 120*time.Second || p.PeerTimeout != 240*time.Second || p.Clock == nil {
		t.Fatalf("defaults = %+v, %v", p, err)
	}
	for _, bad := range []Params{{MaxNumWant: -1}, {AnnounceInterval: time.Millisecond}, {PeerTimeout: -time.Second}} {
		if _, err := New(bad); !errors.Is(err, ErrBadParams) {
			t.Errorf("New(%+v) err = %v, want ErrBadParams", bad, err)
		}
	}
}
