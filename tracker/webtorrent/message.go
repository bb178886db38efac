package webtorrent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// Actions and events of the protocol.
const (
	actionAnnounce = "announce"
	actionScrape   = "scrape"

	eventStarted   = "started"
	eventStopped   = "stopped"
	eventCompleted = "completed"
	eventUpdate    = "update"
)

// maxOfferIDBytes bounds an offer_id as it appears in JSON (bittorrent-tracker
// sends 20 binary characters, at most 6 bytes each when \u-escaped).
const maxOfferIDBytes = 128

// offer is one WebRTC offer of an announce, relayed verbatim.
type offer struct {
	sdp json.RawMessage // the "offer" object
	id  json.RawMessage // the "offer_id" JSON string
}

// request is a parsed, validated client message.
type request struct {
	action    string
	infoHash  binID // announce; the first hash of a scrape
	hashKnown bool  // infoHash was read
	peerID    binID // announce
	event     string
	numWant   int
	complete  bool // left == 0
	offers    []offer

	// answer messages
	answer   json.RawMessage
	toPeerID binID
	offerID  json.RawMessage

	hashes []binID // scrape; empty never (a scrape needs info_hash)
}

func (r *request) isAnswer() bool { return r.answer != nil }

// wireMessage is the JSON shape of a client message; unknown fields
// (uploaded, downloaded, trackerid, ...) are ignored.
type wireMessage struct {
	Action   *string         `json:"action"`
	InfoHash json.RawMessage `json:"info_hash"`
	PeerID   json.RawMessage `json:"peer_id"`
	NumWant  json.RawMessage `json:"numwant"`
	Left     json.RawMessage `json:"left"`
	Event    json.RawMessage `json:"event"`
	Offers   json.RawMessage `json:"offers"`
	Answer   json.RawMessage `json:"answer"`
	ToPeerID json.RawMessage `json:"to_peer_id"`
	OfferID  json.RawMessage `json:"offer_id"`
}

type wireOffer struct {
	Offer   json.RawMessage `json:"offer"`
	OfferID json.RawMessage `json:"offer_id"`
}

// parseMessage decodes and validates one client message. On error, the
// returned request still carries what could be read (action, info_hash) so
// the failure reply can name the swarm, or is nil.
func parseMessage(data []byte, lim limits) (*request, error) {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadJSON, shortErr(err))
	}
	if w.Action == nil {
		return nil, fmt.Errorf("%w: missing action", ErrUnknownAction)
	}
	req := &request{action: *w.Action}
	switch req.action {
	case actionAnnounce:
		return req, parseAnnounce(req, &w, lim)
	case actionScrape:
		return req, parseScrape(req, &w, lim)
	default:
		return nil, fmt.Errorf("%w %.32q", ErrUnknownAction, req.action)
	}
}

func parseAnnounce(req *request, w *wireMessage, lim limits) error {
	var ok bool
	if req.infoHash, ok = decodeBinID(w.InfoHash); !ok {
		return ErrBadInfoHash
	}
	req.hashKnown = true
	if req.peerID, ok = decodeBinID(w.PeerID); !ok {
		return ErrBadPeerID
	}
	if isPresent(w.Answer) {
		if !isObject(w.Answer) {
			return ErrBadAnswer
		}
		if req.toPeerID, ok = decodeBinID(w.ToPeerID); !ok {
			return ErrBadToPeerID
		}
		if !isShortString(w.OfferID) {
			return ErrBadOfferID
		}
		req.answer, req.offerID = w.Answer, w.OfferID
		return nil
	}
	if err := parseEvent(req, w.Event); err != nil {
		return err
	}
	if err := parseOffers(req, w.Offers, lim.maxOffers); err != nil {
		return err
	}
	req.numWant = len(req.offers)
	if isPresent(w.NumWant) {
		n, ok := decodeNumber(w.NumWant)
		if !ok {
			return ErrBadNumWant
		}
		req.numWant = int(max(0, min(n, float64(lim.maxNumWant))))
	}
	req.numWant = min(req.numWant, lim.maxNumWant)
	if n, ok := decodeNumber(w.Left); ok && n == 0 {
		req.complete = true
	}
	return nil
}

func parseEvent(req *request, raw json.RawMessage) error {
	if !isPresent(raw) {
		req.event = eventUpdate
		return nil
	}
	var ev string
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ErrBadEvent
	}
	switch ev {
	case "", "empty", "update", "paused":
		req.event = eventUpdate
	case eventStarted, eventStopped, eventCompleted:
		req.event = ev
	default:
		return ErrBadEvent
	}
	return nil
}

func parseOffers(req *request, raw json.RawMessage, maxOffers int) error {
	if !isPresent(raw) {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return ErrBadOffer
	}
	items = items[:min(len(items), maxOffers)]
	req.offers = make([]offer, 0, len(items))
	for _, it := range items {
		var o wireOffer
		if err := json.Unmarshal(it, &o); err != nil || !isObject(o.Offer) || !isShortString(o.OfferID) {
			return ErrBadOffer
		}
		req.offers = append(req.offers, offer{sdp: o.Offer, id: o.OfferID})
	}
	return nil
}

func parseScrape(req *request, w *wireMessage, lim limits) error {
	if !isPresent(w.InfoHash) {
		return fmt.Errorf("%w: scrape needs info_hash", ErrBadInfoHash)
	}
	if h, ok := decodeBinID(w.InfoHash); ok {
		req.infoHash, req.hashKnown = h, true
		req.hashes = []binID{h}
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(w.InfoHash, &list); err != nil || len(list) == 0 {
		return ErrBadInfoHash
	}
	if len(list) > lim.maxHashes {
		return ErrTooManyHashes
	}
	req.hashes = make([]binID, 0, len(list))
	for _, raw := range list {
		h, ok := decodeBinID(raw)
		if !ok {
			return ErrBadInfoHash
		}
		req.hashes = append(req.hashes, h)
	}
	req.infoHash, req.hashKnown = req.hashes[0], true
	return nil
}

// isPresent reports whether a field was sent with a non-null value.
func isPresent(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

func isObject(raw json.RawMessage) bool {
	return len(raw) > 0 && raw[0] == '{'
}

func isShortString(raw json.RawMessage) bool {
	return len(raw) >= 2 && len(raw) <= maxOfferIDBytes && raw[0] == '"'
}

func decodeNumber(raw json.RawMessage) (float64, bool) {
	var n float64
	if !isPresent(raw) || json.Unmarshal(raw, &n) != nil || math.IsNaN(n) {
		return 0, false
	}
	return n, true
}

// shortErr keeps a JSON syntax error readable and bounded.
func shortErr(err error) string {
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}
