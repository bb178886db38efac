package webtorrent

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Params configures a Server. Zero values take the defaults listed.
type Params struct {
	// Logger receives connection-level events; nil discards them.
	Logger *slog.Logger
	// AllowedOrigins is the allow-list for the upgrade request's Origin
	// header ("https://example.com", compared case-insensitively; "*" allows
	// any). Empty allows any Origin. Requests without an Origin header
	// (non-browser clients such as relay nodes) are always allowed.
	AllowedOrigins []string
	// MaxMessageBytes is the largest accepted message (default 64 KiB); a
	// larger one closes the socket with status 1009 and a reason.
	MaxMessageBytes int64
	// MaxOffersPerAnnounce trims offers beyond it (default 10).
	MaxOffersPerAnnounce int
	// MaxNumWant caps numwant (default 10).
	MaxNumWant int
	// AnnouncesPerSecond is each connection's message rate (token bucket,
	// default 5/s); AnnounceBurst is the bucket size (default 10). A message
	// over the rate gets a failure reason; MaxStrikes (default 20) rejected
	// or invalid messages in a row close the socket. Relay nodes are exempt.
	AnnouncesPerSecond float64
	AnnounceBurst      int
	MaxStrikes         int
	// AnnounceInterval is told to clients (default 120s).
	AnnounceInterval time.Duration
	// PeerTimeout drops swarm members silent for this long, and closes
	// sockets that send nothing for this long (default 2*AnnounceInterval).
	PeerTimeout time.Duration
	// MaxPeersPerSwarm (default 5000), MaxSwarms (default 10000) and
	// MaxSwarmsPerConn (default 32) bound the registry; refusals get a
	// failure reason. Relay nodes are exempt from the per-swarm and
	// per-connection limits.
	MaxPeersPerSwarm int
	MaxSwarms        int
	MaxSwarmsPerConn int
	// MaxScrapeHashes bounds the info_hash list of a scrape (default 64).
	MaxScrapeHashes int
	// SendQueueLen is each socket's outgoing queue, in messages (default
	// 64); when full, messages to that socket are dropped and counted.
	SendQueueLen int
	// WriteTimeout closes a socket whose write blocks this long (default 10s).
	WriteTimeout time.Duration
	// RelayAuth identifies relay-node super-peers from the upgrade request;
	// nil means no client is a relay.
	RelayAuth func(r *http.Request) (relayID string, ok bool)
	// TrustForwardedFor takes the client address from the last entry of
	// X-Forwarded-For (the one the origin's own proxy appended).
	TrustForwardedFor bool
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Clock is the time source for rate limits and peer timeouts
	// (default time.Now).
	Clock func() time.Time
}

// withDefaults returns a copy of p with zero values replaced by defaults.
func (p Params) withDefaults() (Params, error) {
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	p.Logger = p.Logger.With("component", "wstracker")
	setDefault(&p.MaxMessageBytes, 64<<10)
	setDefault(&p.MaxOffersPerAnnounce, 10)
	setDefault(&p.MaxNumWant, 10)
	setDefault(&p.AnnouncesPerSecond, 5)
	setDefault(&p.AnnounceBurst, 10)
	setDefault(&p.MaxStrikes, 20)
	setDefault(&p.AnnounceInterval, 120*time.Second)
	setDefault(&p.PeerTimeout, 2*p.AnnounceInterval)
	setDefault(&p.MaxPeersPerSwarm, 5000)
	setDefault(&p.MaxSwarms, 10000)
	setDefault(&p.MaxSwarmsPerConn, 32)
	setDefault(&p.MaxScrapeHashes, 64)
	setDefault(&p.SendQueueLen, 64)
	setDefault(&p.WriteTimeout, 10*time.Second)
	if p.Clock == nil {
		p.Clock = time.Now
	}
	switch {
	case p.MaxMessageBytes < 0, p.MaxOffersPerAnnounce < 0, p.MaxNumWant < 0,
		p.AnnouncesPerSecond < 0, p.AnnounceBurst < 0, p.MaxStrikes < 0,
		p.AnnounceInterval < time.Second, p.PeerTimeout < 0,
		p.MaxPeersPerSwarm < 0, p.MaxSwarms < 0, p.MaxSwarmsPerConn < 0,
		p.MaxScrapeHashes < 0, p.SendQueueLen < 0, p.WriteTimeout < 0:
		return p, fmt.Errorf("%w: negative limit or interval under 1s", ErrBadParams)
	}
	return p, nil
}

func setDefault[T int | int64 | float64 | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// limits is what the message parser needs to know.
type limits struct {
	maxOffers  int
	maxNumWant int
	maxHashes  int
}

func (p Params) limits() limits {
	return limits{maxOffers: p.MaxOffersPerAnnounce, maxNumWant: p.MaxNumWant, maxHashes: p.MaxScrapeHashes}
}
