package loadgen

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// Shared is what all viewers of one process use together: one HTTP
// transport, one pion API (loopback-only ICE, no STUN, no mDNS) and the
// store that lets viewers share the bytes of identical segments.
type Shared struct {
	http        *http.Client
	api         *webrtc.API
	originHosts map[string]bool
	intern      *interner
	log         *slog.Logger
}

// SharedParams configures NewShared.
type SharedParams struct {
	// Origins are URLs (or host:port) of the origin's HTTP servers; bytes
	// fetched from these hosts count as origin egress, from any other host
	// as relay-node HTTP.
	Origins []string
	// LoopbackOnly gathers only 127.0.0.1 ICE candidates (a load test on
	// one machine); otherwise host candidates of every interface.
	LoopbackOnly bool
	Logger       *slog.Logger
}

// NewShared builds the shared parts.
func NewShared(p SharedParams) (*Shared, error) {
	hosts := map[string]bool{}
	for _, o := range p.Origins {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%w: origin %q", ErrInvalidParams, o)
		}
		hosts[u.Host] = true
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if p.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	// Fewer keepalives: hundreds of idle connections share two cores.
	se.SetICETimeouts(10*time.Second, 20*time.Second, 4*time.Second)
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Shared{
		http:        &http.Client{Transport: tr, Timeout: 20 * time.Second},
		api:         webrtc.NewAPI(webrtc.WithSettingEngine(se)),
		originHosts: hosts,
		intern:      newInterner(512),
		log:         log,
	}, nil
}

// Close drops idle HTTP connections.
func (s *Shared) Close() { s.http.CloseIdleConnections() }

// isOrigin reports whether u points at the origin.
func (s *Shared) isOrigin(u string) bool {
	p, err := url.Parse(u)
	return err == nil && s.originHosts[p.Host]
}
