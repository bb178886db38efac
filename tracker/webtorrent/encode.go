package webtorrent

import (
	"encoding/json"
	"time"
)

// announceReply answers an announce (never an answer message).
type announceReply struct {
	Action     string `json:"action"`
	Interval   int    `json:"interval"`
	InfoHash   binID  `json:"info_hash"`
	Complete   int    `json:"complete"`
	Incomplete int    `json:"incomplete"`
}

// relayed is an offer or an answer forwarded to another peer.
type relayed struct {
	Action   string          `json:"action"`
	Offer    json.RawMessage `json:"offer,omitempty"`
	Answer   json.RawMessage `json:"answer,omitempty"`
	OfferID  json.RawMessage `json:"offer_id"`
	PeerID   binID           `json:"peer_id"`
	InfoHash binID           `json:"info_hash"`
}

// scrapeReply answers a scrape; files is keyed by the binary info_hash.
type scrapeReply struct {
	Action string               `json:"action"`
	Files  map[string]fileStats `json:"files"`
	Flags  scrapeFlags          `json:"flags"`
}

type fileStats struct {
	Complete   int    `json:"complete"`
	Incomplete int    `json:"incomplete"`
	Downloaded uint64 `json:"downloaded"`
}

type scrapeFlags struct {
	MinRequestInterval int `json:"min_request_interval"`
}

// failure is the error reply. Action and info_hash are set when known:
// bittorrent-tracker's client drops replies for another info_hash and
// treats a reply without a known action as a socket error.
type failure struct {
	Action   string `json:"action,omitempty"`
	Reason   string `json:"failure reason"`
	InfoHash *binID `json:"info_hash,omitempty"`
}

func intervalSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

func encodeAnnounceReply(hash binID, interval time.Duration, complete, incomplete int) []byte {
	return mustJSON(announceReply{Action: actionAnnounce, Interval: intervalSeconds(interval),
		InfoHash: hash, Complete: complete, Incomplete: incomplete})
}

func encodeOffer(from, hash binID, o offer) []byte {
	return mustJSON(relayed{Action: actionAnnounce, Offer: o.sdp, OfferID: o.id, PeerID: from, InfoHash: hash})
}

func encodeAnswer(from, hash binID, answer, offerID json.RawMessage) []byte {
	return mustJSON(relayed{Action: actionAnnounce, Answer: answer, OfferID: offerID, PeerID: from, InfoHash: hash})
}

func encodeScrapeReply(files map[string]fileStats, interval time.Duration) []byte {
	return mustJSON(scrapeReply{Action: actionScrape, Files: files,
		Flags: scrapeFlags{MinRequestInterval: intervalSeconds(interval)}})
}

// encodeFailure builds the failure reply for err to req (which may be nil).
func encodeFailure(req *request, err error) []byte {
	f := failure{Reason: err.Error()}
	if req != nil {
		f.Action = req.action
		if req.hashKnown {
			h := req.infoHash
			f.InfoHash = &h
		}
	}
	return mustJSON(f)
}

// mustJSON marshals values whose fields are all valid JSON by construction
// (raw parts come from a successful decode), so it cannot fail; a failure
// yields a generic failure reply rather than a panic.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"failure reason":"internal encoding error"}`)
	}
	return b
}
