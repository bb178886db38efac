package superpeer

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Params configures a SuperPeer.
type Params struct {
	Logger *slog.Logger
	// Trackers are ws:// or wss:// URLs of the browser tracker; the
	// super-peer uses one at a time and fails over in order.
	Trackers []string
	// Header, when set, is called before every tracker dial with the
	// tracker's URL; what it returns is added to the WebSocket upgrade
	// request. It carries the relay auth header, which is time-bound and
	// so must be made fresh for each connection.
	Header func(url string) http.Header
	Source Source
	// MaxPeers bounds the browser connections served at once (all swarms).
	MaxPeers int
	ICE      ICE
	// Registerer receives the super-peer's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// ICE selects the candidates the node offers browsers.
type ICE struct {
	// Servers are STUN/TURN servers to gather with; none gathers host
	// candidates only (a relay node normally has a public address).
	Servers []webrtc.ICEServer
	// PublicIPs are advertised as host candidates instead of the local
	// addresses (a node behind 1:1 NAT).
	PublicIPs []string
	// PortMin/PortMax bound the UDP ports used (0: ephemeral).
	PortMin, PortMax uint16
	// LoopbackOnly gathers only 127.0.0.1 candidates with mDNS off (tests).
	LoopbackOnly bool
}

// timing holds intervals and bounds; tests in this package shorten them.
type timing struct {
	dialTimeout       time.Duration // WebSocket dial
	minBackoff        time.Duration // first reconnect delay
	maxBackoff        time.Duration
	healthyAfter      time.Duration // a session this long resets backoff
	defaultInterval   time.Duration // re-announce before the tracker says
	minInterval       time.Duration // clamp for the tracker's interval
	maxInterval       time.Duration
	offersPerAnnounce int           // own offers per swarm announce
	offerTimeout      time.Duration // unanswered own offers are dropped
	gatherTimeout     time.Duration // ICE gathering for one offer/answer
	connectTimeout    time.Duration // answered/offered to data channel open
	stallTimeout      time.Duration // a peer that does not drain is closed
	highWater         uint64        // bufferedAmount that pauses sending
	lowWater          uint64        // bufferedAmount that resumes it
	trackerQueue      int           // queued tracker messages
}

func defaultTiming() timing {
	return timing{
		dialTimeout:       10 * time.Second,
		minBackoff:        time.Second,
		maxBackoff:        time.Minute,
		healthyAfter:      30 * time.Second,
		defaultInterval:   30 * time.Second,
		minInterval:       5 * time.Second,
		maxInterval:       10 * time.Minute,
		offersPerAnnounce: 5,
		offerTimeout:      50 * time.Second,
		gatherTimeout:     5 * time.Second,
		connectTimeout:    30 * time.Second,
		stallTimeout:      20 * time.Second,
		highWater:         1 << 20,
		lowWater:          256 << 10,
		trackerQueue:      256,
	}
}

func (p *Params) validate() error {
	if p.Source == nil {
		return fmt.Errorf("%w: nil Source", ErrInvalidParams)
	}
	if p.MaxPeers <= 0 {
		return fmt.Errorf("%w: MaxPeers %d", ErrInvalidParams, p.MaxPeers)
	}
	if len(p.Trackers) == 0 {
		return fmt.Errorf("%w: no trackers", ErrInvalidParams)
	}
	for _, t := range p.Trackers {
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return fmt.Errorf("%w: tracker %q is not a ws:// or wss:// URL", ErrInvalidParams, t)
		}
	}
	if p.ICE.PortMin > p.ICE.PortMax {
		return fmt.Errorf("%w: ICE ports %d-%d", ErrInvalidParams, p.ICE.PortMin, p.ICE.PortMax)
	}
	for _, ip := range p.ICE.PublicIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("%w: public IP %q", ErrInvalidParams, ip)
		}
	}
	return nil
}

// newAPI builds the pion API for the ICE settings.
func newAPI(c ICE) (*webrtc.API, error) {
	var se webrtc.SettingEngine
	if c.PortMax > 0 {
		if err := se.SetEphemeralUDPPortRange(c.PortMin, c.PortMax); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidParams, err)
		}
	}
	if len(c.PublicIPs) > 0 {
		se.SetNAT1To1IPs(c.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if c.LoopbackOnly {
		LoopbackSettings(&se)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se)), nil
}

// LoopbackSettings restricts a pion SettingEngine to 127.0.0.1 UDP
// candidates with mDNS off; tests use it for both ends.
func LoopbackSettings(se *webrtc.SettingEngine) {
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
}
