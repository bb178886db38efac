package proto

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// RelayAuthHeader is the HTTP header a relay node sends when it opens the
// browser tracker's WebSocket, to be known as a relay node (a super-peer
// that browsers are offered first) rather than as a viewer.
const RelayAuthHeader = "X-Canopy-Relay"

// RelayAuthMaxSkew is how far a relay header's time may be from the
// tracker's clock.
const RelayAuthMaxSkew = 5 * time.Minute

// relayAuthDomain separates these signatures from any other use of a
// node's libp2p key.
const relayAuthDomain = "canopy/relay-auth/v1"

// ErrRelayAuth is returned for a relay header that does not prove the
// sender holds the key of the libp2p peer it names.
var ErrRelayAuth = errors.New("bad relay auth header")

// relayAuthBytes is what a relay header signs: the domain, the peer ID,
// the unix time in seconds and the tracker's host (the HTTP Host the
// header is sent to), separated by newlines. Binding the host keeps a
// header sent to one tracker from being replayed to another.
func relayAuthBytes(id peer.ID, unix int64, host string) []byte {
	return []byte(relayAuthDomain + "\n" + id.String() + "\n" + strconv.FormatInt(unix, 10) + "\n" + host)
}

// SignRelayAuth returns the RelayAuthHeader value for a relay node with
// libp2p key priv, opening the tracker at host at time now:
//
//	v1 <peer ID> <unix seconds> <signature, unpadded base64url>
func SignRelayAuth(priv crypto.PrivKey, host string, now time.Time) (string, error) {
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("relay auth: %w", err)
	}
	unix := now.Unix()
	sig, err := priv.Sign(relayAuthBytes(id, unix, host))
	if err != nil {
		return "", fmt.Errorf("relay auth: %w", err)
	}
	return "v1 " + id.String() + " " + strconv.FormatInt(unix, 10) + " " + base64.RawURLEncoding.EncodeToString(sig), nil
}

// VerifyRelayAuth checks a RelayAuthHeader value received by the tracker at
// host at time now and returns the relay's peer ID. The header is valid
// for RelayAuthMaxSkew either side of its time; within that window it can
// be replayed to the same host, which gains a replayer only a place at the
// front of browsers' peer lists, never data: every segment is still
// checked against the origin's signature.
func VerifyRelayAuth(value, host string, now time.Time) (peer.ID, error) {
	if len(value) > 512 {
		return "", fmt.Errorf("%w: too long", ErrRelayAuth)
	}
	f := strings.Fields(value)
	if len(f) != 4 || f[0] != "v1" {
		return "", fmt.Errorf("%w: want \"v1 <peer> <time> <signature>\"", ErrRelayAuth)
	}
	id, err := peer.Decode(f[1])
	if err != nil {
		return "", fmt.Errorf("%w: peer ID: %w", ErrRelayAuth, err)
	}
	unix, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: time: %w", ErrRelayAuth, err)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > RelayAuthMaxSkew || d < -RelayAuthMaxSkew {
		return "", fmt.Errorf("%w: time is %v from the tracker's clock", ErrRelayAuth, d.Round(time.Second))
	}
	sig, err := base64.RawURLEncoding.DecodeString(f[3])
	if err != nil {
		return "", fmt.Errorf("%w: signature: %w", ErrRelayAuth, err)
	}
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return "", fmt.Errorf("%w: peer ID carries no public key: %w", ErrRelayAuth, err)
	}
	ok, err := pub.Verify(relayAuthBytes(id, unix, host), sig)
	if err != nil || !ok {
		return "", fmt.Errorf("%w: signature does not verify", ErrRelayAuth)
	}
	return id, nil
}
