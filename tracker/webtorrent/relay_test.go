package webtorrent

import (
	"reflect"
	"testing"
)

// binaryString is a 20-character binary string with code points >= 0x80,
// as bittorrent-tracker sends for a SHA-1 info_hash or a random offer_id.
func binaryString(seed byte) string {
	r := make([]rune, 20)
	for i := range r {
		r[i] = rune(seed + byte(i)*13)
	}
	return string(r)
}

func TestOfferAnswerRelay(t *testing.T) {
	tests := []struct {
		name, hash, peerA, peerB, offerID string
	}{
		{"p2pml ASCII ids", "AbCdEfGhIjKlMnOpQrSt", "-PM0203-aaaaaaaaaaaa", "-PM0203-bbbbbbbbbbbb", "offer-id-0123456789a"},
		{"binary ids", binaryString(0x81), binaryString(0x01), binaryString(0xc0), binaryString(0xf0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tt := startTracker(t, Params{})
			a, b := dial(t, tt, nil), dial(t, tt, nil)

			r := b.announce(tc.hash, tc.peerB, 5, []map[string]any{}, "started")
			want := map[string]any{"action": "announce", "interval": 120.0, "info_hash": tc.hash,
				"complete": 0.0, "incomplete": 1.0}
			if !reflect.DeepEqual(r, want) {
				t.Fatalf("B's reply = %v, want %v", r, want)
			}

			sdp := map[string]any{"type": "offer", "sdp": "v=0\r\na=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\n<&>"}
			r = a.announce(tc.hash, tc.peerA, 5, []map[string]any{{"offer": sdp, "offer_id": tc.offerID}}, "started")
			if r["incomplete"] != 2.0 || r["info_hash"] != tc.hash {
				t.Fatalf("A's reply = %v", r)
			}

			got := b.recv()
			wantOffer := map[string]any{"action": "announce", "offer": sdp, "offer_id": tc.offerID,
				"peer_id": tc.peerA, "info_hash": tc.hash}
			if !reflect.DeepEqual(got, wantOffer) {
				t.Fatalf("B got %v, want %v", got, wantOffer)
			}

			answer := map[string]any{"type": "answer", "sdp": "v=0\r\nanswer\r\n"}
			b.send(map[string]any{"action": "announce", "info_hash": tc.hash, "peer_id": tc.peerB,
				"to_peer_id": tc.peerA, "answer": answer, "offer_id": tc.offerID})
			got = a.recv()
			wantAnswer := map[string]any{"action": "announce", "answer": answer, "offer_id": tc.offerID,
				"peer_id": tc.peerB, "info_hash": tc.hash}
			if !reflect.DeepEqual(got, wantAnswer) {
				t.Fatalf("A got %v, want %v", got, wantAnswer)
			}
			b.sync(tc.hash) // an answer gets no reply
			a.sync(tc.hash)

			st := tt.Stats()
			if st.Totals.OffersRelayed != 1 || st.Totals.AnswersRelayed != 1 || st.Peers != 2 || st.Swarms != 1 {
				t.Fatalf("stats = %+v", st)
			}
		})
	}
}

func TestAnswerRules(t *testing.T) {
	tt := startTracker(t, Params{})
	a, b, c := dial(t, tt, nil), dial(t, tt, nil), dial(t, tt, nil)
	hash := id20("swarm-answers")
	a.announce(hash, id20("A"), 5, nil, "started")
	b.announce(hash, id20("B"), 5, nil, "started")
	answer := func(from, to string) map[string]any {
		return map[string]any{"action": "announce", "info_hash": hash, "peer_id": from, "to_peer_id": to,
			"answer": map[string]any{"type": "answer", "sdp": "x"}, "offer_id": "o"}
	}

	// c never announced: it may not speak as B.
	c.send(answer(id20("B"), id20("A")))
	if r := c.recv(); r["failure reason"] != ErrNotInSwarm.Error() {
		t.Fatalf("spoofed answer: got %v", r)
	}
	// To a peer that left: silently counted.
	b.send(answer(id20("B"), id20("gone")))
	b.sync(hash)
	a.sync(hash)
	if st := tt.Stats(); st.Totals.AnswersRelayed != 0 || st.Totals.Errors != 2 {
		t.Fatalf("stats = %+v", st.Totals)
	}
}

func TestSamePeerIDOnNewSocketTakesOver(t *testing.T) {
	tt := startTracker(t, Params{})
	old, fresh, other := dial(t, tt, nil), dial(t, tt, nil), dial(t, tt, nil)
	hash, id := id20("swarm-takeover"), id20("P")
	old.announce(hash, id, 5, nil, "started")
	fresh.announce(hash, id, 5, nil, "started")
	if st := tt.Stats(); st.Peers != 1 {
		t.Fatalf("peers = %d, want 1", st.Peers)
	}
	other.announce(hash, id20("O"), 1, offers(1, "o"), "started")
	if m := fresh.recv(); m["offer"] == nil {
		t.Fatalf("new socket got %v, want the offer", m)
	}
	old.sync(hash)
	// The old socket closing must not remove the member now owned by fresh.
	_ = old.ws.CloseNow()
	tt.waitClosed(t, 1)
	if st := tt.Stats(); st.Peers != 2 {
		t.Fatalf("peers after old socket closed = %d, want 2", st.Peers)
	}
}
