package tracker

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/canopylive/canopy/proto"
)

// WHEP relay choice. Nodes that serve low-latency viewers say where in
// their Hello (whep_url, whep_capacity) and how many they have in every
// Heartbeat (whep_sessions). PickWHEP sends a viewer to one of them.

// Limits on what a node may announce.
const (
	maxWHEPURLLen = 512
	// DefaultWHEPCapacity is assumed for a node that announces a URL but
	// no capacity.
	DefaultWHEPCapacity = 200
	maxWHEPCapacity     = 100_000
)

// validWHEPURL checks a node's announced WHEP base URL: http or https, a
// host, nothing else (no user info, path, query or fragment), so that the
// tracker can only ever send a viewer to <url>/live/{stream}/whep.
func validWHEPURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if len(raw) > maxWHEPURLLen {
		return "", fmt.Errorf("%w: whep_url of %d bytes", ErrBadHello, len(raw))
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: whep_url: %w", ErrBadHello, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%w: whep_url scheme %q", ErrBadHello, u.Scheme)
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("%w: whep_url must be scheme://host[:port]", ErrBadHello)
	case strings.Trim(u.Path, "/") != "":
		return "", fmt.Errorf("%w: whep_url has a path", ErrBadHello)
	}
	return u.Scheme + "://" + u.Host, nil
}

// whepCandidate is a node that could take a viewer.
type whepCandidate struct {
	id       string
	url      string
	depth    int
	sessions int // connected now, plus viewers sent since its last heartbeat
	capacity int
}

// pickWHEP returns the index of the candidate a viewer at client should
// use, or -1 when none has room. Preference: a node in the viewer's own
// network (its URL's host is an IP in the same /24 or /64), then the
// lowest share of capacity in use, then the shallowest (fewest hops, least
// latency), then the peer ID, so that the choice is deterministic.
func pickWHEP(cands []whepCandidate, client netip.Addr) int {
	best := -1
	var bestNear bool
	for i, c := range cands {
		if c.capacity <= 0 || c.sessions >= c.capacity {
			continue
		}
		near := sameNetwork(c.url, client)
		if best < 0 || better(c, near, cands[best], bestNear) {
			best, bestNear = i, near
		}
	}
	return best
}

func better(a whepCandidate, aNear bool, b whepCandidate, bNear bool) bool {
	if aNear != bNear {
		return aNear
	}
	// a.sessions/a.capacity < b.sessions/b.capacity, without division.
	if l, r := a.sessions*b.capacity, b.sessions*a.capacity; l != r {
		return l < r
	}
	if a.depth != b.depth {
		return a.depth < b.depth
	}
	return a.id < b.id
}

// sameNetwork reports whether base's host is an IP address in client's
// /24 (IPv4) or /64 (IPv6). Loopback is nobody's network.
func sameNetwork(base string, client netip.Addr) bool {
	if !client.IsValid() || client.IsLoopback() {
		return false
	}
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	host := u.Hostname()
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a, client = a.Unmap(), client.Unmap()
	if a.Is4() != client.Is4() {
		return false
	}
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	return err == nil && p.Contains(client)
}

// PickWHEP chooses a relay node for a low-latency viewer of stream at
// client (the zero Addr when unknown) and returns its WHEP base URL. Only
// nodes attached to the stream's tree that announced a URL and have room
// qualify; the root (the origin) never does, being every viewer's
// fallback. A pick counts against the node until its next heartbeat, so a
// burst of viewers spreads out.
func (t *Tracker) PickWHEP(stream string, client netip.Addr) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.trees[stream]
	if tr == nil || t.closed {
		return "", false
	}
	var cands []whepCandidate
	var owners []*session
	for id, s := range t.sessions {
		if s.root || s.whepURL == "" || !s.registered {
			continue
		}
		l, ok := tr.Link(id)
		if !ok || l.Depth < 1 {
			continue
		}
		cands = append(cands, whepCandidate{id: id, url: s.whepURL, depth: l.Depth,
			sessions: s.whepSessions + s.whepHanded, capacity: s.whepCapacity})
		owners = append(owners, s)
	}
	i := pickWHEP(cands, client)
	if i < 0 {
		t.metrics.whepPicks.WithLabelValues("none").Inc()
		return "", false
	}
	owners[i].whepHanded++
	t.metrics.whepPicks.WithLabelValues("relay").Inc()
	return cands[i].url, true
}

// WHEPHandler answers GET /tracker/whep/{stream}?client=IP with
// {"url": "<base URL>"} for the relay a low-latency viewer should use, or
// 404 when no relay has room (the caller serves the viewer itself). The
// origin asks it for each WHEP offer it is sent.
func (t *Tracker) WHEPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		stream := r.PathValue("stream")
		if !proto.ValidName(stream) {
			http.Error(w, "bad stream name", http.StatusBadRequest)
			return
		}
		var client netip.Addr
		if c := r.URL.Query().Get("client"); c != "" {
			if ip := net.ParseIP(c); ip != nil {
				client, _ = netip.AddrFromSlice(ip)
			} else {
				http.Error(w, "bad client address", http.StatusBadRequest)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		u, ok := t.PickWHEP(stream, client)
		if !ok {
			http.Error(w, "no relay has room", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			URL string `json:"url"`
		}{u})
	})
}
