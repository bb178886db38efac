package webtorrent

import (
	"encoding/json"
	"testing"
)

// FuzzParseMessage checks that parsing never panics and that what it
// accepts respects the limits and re-encodes to valid JSON.
func FuzzParseMessage(f *testing.F) {
	h, p := id20("hash"), id20("peer")
	for _, seed := range []string{
		`{"action":"announce","info_hash":"` + h + `","peer_id":"` + p + `","numwant":5,"uploaded":0,"downloaded":0,"event":"started","offers":[{"offer":{"type":"offer","sdp":"v=0\r\n"},"offer_id":"\u00ff\u0080abcdefghijklmnopq"}]}`,
		`{"action":"announce","info_hash":"` + h + `","peer_id":"` + p + `","to_peer_id":"` + p + `","answer":{"type":"answer","sdp":"x"},"offer_id":"o"}`,
		`{"action":"announce","info_hash":"` + h + `","peer_id":"` + p + `","event":"stopped","numwant":1e3,"left":0}`,
		`{"action":"scrape","info_hash":["` + h + `","` + p + `"]}`,
		`{"action":"scrape","info_hash":"` + h + `"}`,
		`{"action":"scrape"}`, `{"action":null}`, `[]`, `{`, `"x"`, `{"action":"announce","offers":[{}]}`,
	} {
		f.Add([]byte(seed))
	}
	lim := limits{maxOffers: 3, maxNumWant: 4, maxHashes: 5}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := parseMessage(data, lim)
		if err != nil {
			// The failure reply must always encode.
			if !json.Valid(encodeFailure(req, err)) {
				t.Fatalf("failure reply for %q is not JSON", data)
			}
			return
		}
		switch req.action {
		case actionScrape:
			if len(req.hashes) == 0 || len(req.hashes) > lim.maxHashes {
				t.Fatalf("scrape with %d hashes", len(req.hashes))
			}
			if !json.Valid(encodeScrapeReply(map[string]fileStats{req.hashes[0].String(): {}}, 1)) {
				t.Fatal("scrape reply not JSON")
			}
		case actionAnnounce:
			if len(req.offers) > lim.maxOffers || req.numWant < 0 || req.numWant > lim.maxNumWant {
				t.Fatalf("limits broken: %d offers, numwant %d", len(req.offers), req.numWant)
			}
			if req.isAnswer() {
				if !json.Valid(encodeAnswer(req.peerID, req.infoHash, req.answer, req.offerID)) {
					t.Fatal("answer relay not JSON")
				}
				return
			}
			for _, o := range req.offers {
				msg := encodeOffer(req.peerID, req.infoHash, o)
				var back struct {
					PeerID   string `json:"peer_id"`
					InfoHash string `json:"info_hash"`
				}
				if err := json.Unmarshal(msg, &back); err != nil {
					t.Fatalf("offer relay not JSON: %v", err)
				}
				if back.PeerID != req.peerID.String() || back.InfoHash != req.infoHash.String() {
					t.Fatal("ids changed in relay")
				}
			}
		default:
			t.Fatalf("accepted action %q", req.action)
		}
	})
}
