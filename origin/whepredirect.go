package origin

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/canopylive/canopy/proto"
)

// WHEPRouter chooses the relay node a low-latency viewer should use (the
// tracker's choice). ok is false when none has room: the origin then
// serves the viewer itself.
type WHEPRouter interface {
	PickWHEP(ctx context.Context, stream string, client netip.Addr) (baseURL string, ok bool, err error)
}

// routerTimeout bounds the question to the router; on timeout the origin
// serves the viewer itself.
const routerTimeout = time.Second

// redirectWHEP sends WHEP offers to the relay the router picks, with
// 307 Temporary Redirect (RFC 9725 §4.5: a WHEP client follows it with
// the same offer). The origin keeps the offer only when no relay has room,
// the router fails, or the client asked for the origin with ?relay=0.
func (o *Origin) redirectWHEP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream, ok := whepOfferPath(r)
		if !ok || r.URL.Query().Get("relay") == "0" || len(o.ll.Tracks(stream)) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), routerTimeout)
		base, ok, err := o.p.LowLatency.Router.PickWHEP(ctx, stream, remoteAddr(r))
		cancel()
		if err != nil {
			o.log.Warn("whep router failed; serving the viewer here", "stream", stream, "err", err)
		}
		if !ok || err != nil {
			o.metrics.whepRedirects.WithLabelValues("origin").Inc()
			next.ServeHTTP(w, r)
			return
		}
		o.metrics.whepRedirects.WithLabelValues("relay").Inc()
		w.Header().Set("Location", strings.TrimRight(base, "/")+"/live/"+stream+"/whep")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
}

// whepOfferPath matches POST /live/{stream}/whep.
func whepOfferPath(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/live/")
	if !ok {
		return "", false
	}
	stream, ok := strings.CutSuffix(rest, "/whep")
	if !ok || !proto.ValidName(stream) {
		return "", false
	}
	return stream, true
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
