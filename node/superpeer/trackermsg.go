package superpeer

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/pion/webrtc/v4"
)

// WebTorrent tracker messages as bittorrent-tracker's WebSocket client and
// server exchange them (JSON text frames). info_hash, peer_id and offer_id
// are 20-character strings; Canopy's are all ASCII.

// offerEntry is one of an announce's offers.
type offerEntry struct {
	Offer   webrtc.SessionDescription `json:"offer"`
	OfferID string                    `json:"offer_id"`
}

// announceMessage joins, refreshes or leaves a swarm.
type announceMessage struct {
	Action     string       `json:"action"`
	InfoHash   string       `json:"info_hash"`
	PeerID     string       `json:"peer_id"`
	Event      string       `json:"event,omitempty"`
	NumWant    int          `json:"numwant"`
	Uploaded   uint64       `json:"uploaded"`
	Downloaded uint64       `json:"downloaded"`
	Left       int          `json:"left"` // 0: counted as a seeder
	Offers     []offerEntry `json:"offers,omitempty"`
}

// answerMessage answers an offer relayed by the tracker.
type answerMessage struct {
	Action   string                    `json:"action"`
	InfoHash string                    `json:"info_hash"`
	PeerID   string                    `json:"peer_id"`
	ToPeerID string                    `json:"to_peer_id"`
	Answer   webrtc.SessionDescription `json:"answer"`
	OfferID  string                    `json:"offer_id"`
}

// trackerMessage is anything the tracker sends.
type trackerMessage struct {
	Action        string                     `json:"action"`
	InfoHash      string                     `json:"info_hash"`
	PeerID        string                     `json:"peer_id"`
	OfferID       string                     `json:"offer_id"`
	Offer         *webrtc.SessionDescription `json:"offer"`
	Answer        *webrtc.SessionDescription `json:"answer"`
	Interval      float64                    `json:"interval"`
	MinInterval   float64                    `json:"min interval"`
	FailureReason string                     `json:"failure reason"`
	Warning       string                     `json:"warning message"`
}

func encodeJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil // only plain structs of strings and numbers are encoded
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func stoppedMessage(infoHash, peerID string) []byte {
	return encodeJSON(announceMessage{
		Action: "announce", InfoHash: infoHash, PeerID: peerID, Event: "stopped",
	})
}

// nonTrickleSDP drops the trickle ICE option, as simple-peer does when it
// signals complete descriptions.
func nonTrickleSDP(d webrtc.SessionDescription) webrtc.SessionDescription {
	lines := strings.SplitAfter(d.SDP, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.TrimRight(l, "\r\n") != "a=ice-options:trickle" {
			kept = append(kept, l)
		}
	}
	return webrtc.SessionDescription{Type: d.Type, SDP: strings.Join(kept, "")}
}
