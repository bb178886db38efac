package superpeer

import (
	"crypto/rand"

	"github.com/pion/webrtc/v4"
)

// Exported building blocks of the p2p-media-loader protocol, for Go clients
// that play the browser's part (internal/loadgen's headless viewers). They
// wrap the super-peer's own codec and signalling types unchanged.

// CommandType is the first byte of a peer command.
type CommandType byte

// Peer command types (p2p-media-loader-core 2.x p2p/commands/types.ts).
const (
	CmdAnnouncement = CommandType(cmdAnnouncement)
	CmdRequest      = CommandType(cmdRequest)
	CmdData         = CommandType(cmdData)
	CmdCompleted    = CommandType(cmdCompleted)
	CmdAbsent       = CommandType(cmdAbsent)
	CmdCancel       = CommandType(cmdCancel)
)

// MaxMessage is the largest data channel message p2p-media-loader writes
// by default (webRtcMaxMessageSize); raw segment chunks are at most this.
const MaxMessage = maxMessage

// MaxAnnounced is the longest id list an announcement can carry.
const MaxAnnounced = maxArrayLen

// Command is one peer command; fields its type does not use are zero.
type Command struct {
	Type    CommandType
	ID      int64   // i: segment id (HLS live: media sequence number)
	Req     int64   // r: request id
	Size    int64   // s: byte count of SegmentData
	From    int64   // b: byte offset of a request
	Loaded  []int64 // l: announced loaded ids
	Loading []int64 // p: announced ids loading over HTTP
}

// EncodeCommand encodes and frames c into data channel messages.
func EncodeCommand(c Command) ([][]byte, error) {
	body, err := encodeCommand(command{typ: cmdType(c.Type), id: c.ID, req: c.Req, size: c.Size,
		from: c.From, loaded: c.Loaded, loading: c.Loading})
	if err != nil {
		return nil, err
	}
	return frameCommand(body, maxMessage), nil
}

// DecodeCommand parses a complete (joined) command body.
func DecodeCommand(body []byte) (Command, error) {
	c, err := decodeCommand(body)
	if err != nil {
		return Command{}, err
	}
	return Command{Type: CommandType(c.typ), ID: c.id, Req: c.req, Size: c.size, From: c.from,
		Loaded: c.loaded, Loading: c.loading}, nil
}

// IsCommandMessage reports whether a data channel message is a command
// part rather than raw segment bytes.
func IsCommandMessage(m []byte) bool { return isCommandMessage(m) }

// Joiner reassembles command parts received on one data channel. It is not
// safe for concurrent use.
type Joiner struct{ j joiner }

// Add feeds one command message; it returns the body when msg completes a
// command, nil while parts are missing, or an error for a broken sequence.
func (j *Joiner) Add(msg []byte) ([]byte, error) { return j.j.add(msg) }

// VariantSwarmID returns the p2p-media-loader stream swarm id of the
// variant whose EXT-X-STREAM-INF attribute list (the text after the colon)
// is attrs, for core swarm id swarmID (SwarmID(stream, broadcast)).
func VariantSwarmID(swarmID, attrs string) string {
	return "v2-" + swarmID + "-main-" + variantShortID(parseAttrList(attrs))
}

// NonTrickleSDP drops the trickle ICE option from a complete description,
// as simple-peer does.
func NonTrickleSDP(d webrtc.SessionDescription) webrtc.SessionDescription { return nonTrickleSDP(d) }

// WebTorrent tracker messages, as the super-peer writes and reads them.
type (
	// OfferEntry is one offer of an announce.
	OfferEntry = offerEntry
	// AnnounceMessage joins, refreshes or leaves a swarm.
	AnnounceMessage = announceMessage
	// AnswerMessage answers an offer relayed by the tracker.
	AnswerMessage = answerMessage
	// TrackerMessage is anything the tracker sends.
	TrackerMessage = trackerMessage
)

// EncodeJSON encodes a tracker message without HTML escaping (offer ids
// are binary strings) and without a trailing newline; nil on failure.
func EncodeJSON(v any) []byte { return encodeJSON(v) }

// RandomString returns n characters of [A-Za-z0-9] from crypto/rand, as
// peer ids and offer ids are drawn.
func RandomString(n int) (string, error) { return randomString(rand.Reader, n) }
