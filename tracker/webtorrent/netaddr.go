package webtorrent

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address a request came from: the socket's remote
// address, or, when trusted, the last X-Forwarded-For entry (the one the
// origin's proxy appended; earlier entries are the client's own claims).
func clientAddr(r *http.Request, trustForwarded bool) netip.Addr {
	if trustForwarded {
		if v := r.Header.Values("X-Forwarded-For"); len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return a.Unmap()
			}
		}
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

// networkOf is the network prefix viewers are grouped by: /24 for IPv4,
// /64 for IPv6; the zero Prefix (grouping with nobody) when unknown.
func networkOf(a netip.Addr) netip.Prefix {
	bits := 64
	if a.Is4() {
		bits = 24
	}
	if !a.IsValid() {
		return netip.Prefix{}
	}
	p, err := a.WithZone("").Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// originAllowed checks the upgrade request's Origin against the allow-list.
func originAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if len(allowed) == 0 || origin == "" {
		return true
	}
	origin = strings.TrimSuffix(origin, "/")
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	return false
}
