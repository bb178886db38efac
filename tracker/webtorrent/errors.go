package webtorrent

import "errors"

// Errors. The text of the protocol errors is what clients receive as
// "failure reason".
var (
	ErrBadJSON         = errors.New("invalid JSON message")
	ErrUnknownAction   = errors.New("unknown action")
	ErrBadInfoHash     = errors.New("invalid info_hash")
	ErrBadPeerID       = errors.New("invalid peer_id")
	ErrBadToPeerID     = errors.New("invalid to_peer_id (required with answer)")
	ErrBadOfferID      = errors.New("invalid offer_id")
	ErrBadOffer        = errors.New("invalid offers")
	ErrBadAnswer       = errors.New("invalid answer")
	ErrBadEvent        = errors.New("invalid event")
	ErrBadNumWant      = errors.New("invalid numwant")
	ErrTooManyHashes   = errors.New("too many info_hash values in scrape")
	ErrRateLimited     = errors.New("too many requests, slow down")
	ErrSwarmFull       = errors.New("swarm is full")
	ErrTooManySwarms   = errors.New("tracker has too many swarms")
	ErrConnSwarmLimit  = errors.New("too many swarms on this connection")
	ErrNotInSwarm      = errors.New("answer from a peer that has not announced in this swarm")
	ErrUnknownPeer     = errors.New("no peer with that to_peer_id")
	ErrMessageTooBig   = errors.New("message too big")
	ErrOriginForbidden = errors.New("origin not allowed")
	ErrClosed          = errors.New("tracker closed")
	ErrBadParams       = errors.New("invalid params")
)

// reasonLabel maps an error to the label of the errors_total metric.
func reasonLabel(err error) string {
	switch {
	case errors.Is(err, ErrBadJSON):
		return "bad_json"
	case errors.Is(err, ErrUnknownAction):
		return "unknown_action"
	case errors.Is(err, ErrBadInfoHash), errors.Is(err, ErrBadPeerID), errors.Is(err, ErrBadToPeerID),
		errors.Is(err, ErrBadOfferID), errors.Is(err, ErrBadOffer), errors.Is(err, ErrBadAnswer),
		errors.Is(err, ErrBadEvent), errors.Is(err, ErrBadNumWant), errors.Is(err, ErrTooManyHashes):
		return "bad_field"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrSwarmFull):
		return "swarm_full"
	case errors.Is(err, ErrTooManySwarms):
		return "too_many_swarms"
	case errors.Is(err, ErrConnSwarmLimit):
		return "conn_swarm_limit"
	case errors.Is(err, ErrNotInSwarm):
		return "not_in_swarm"
	case errors.Is(err, ErrUnknownPeer):
		return "unknown_peer"
	case errors.Is(err, ErrMessageTooBig):
		return "message_too_big"
	case errors.Is(err, ErrOriginForbidden):
		return "origin_forbidden"
	default:
		return "other"
	}
}
