package webtorrent

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
)

// maxStatsSwarms bounds the per-swarm list of Stats (largest swarms first).
const maxStatsSwarms = 1000

// Stats is a snapshot of the tracker.
type Stats struct {
	Connections int          `json:"connections"`
	Swarms      int          `json:"swarms"`
	Peers       int          `json:"peers"`    // memberships, all swarms
	Relays      int          `json:"relays"`   // memberships of relay nodes
	Browsers    int          `json:"browsers"` // memberships of other clients
	PerSwarm    []SwarmStats `json:"per_swarm"`
	Truncated   bool         `json:"per_swarm_truncated,omitempty"`
	Totals      Totals       `json:"totals"`
}

// SwarmStats describes one swarm.
type SwarmStats struct {
	InfoHash    string `json:"info_hash"`     // the binary string (ASCII for p2p-media-loader)
	InfoHashHex string `json:"info_hash_hex"` // hexadecimal
	Peers       int    `json:"peers"`
	Relays      int    `json:"relays"`
	Browsers    int    `json:"browsers"`
	Complete    int    `json:"complete"`
	Incomplete  int    `json:"incomplete"`
	Downloaded  uint64 `json:"downloaded"`
}

// Totals are counts since New.
type Totals struct {
	Announces      uint64 `json:"announces"`
	Scrapes        uint64 `json:"scrapes"`
	OffersRelayed  uint64 `json:"offers_relayed"`
	AnswersRelayed uint64 `json:"answers_relayed"`
	Errors         uint64 `json:"errors"`
	Dropped        uint64 `json:"dropped"`
}

// Stats returns a snapshot.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	nconns := len(s.conns)
	s.mu.Unlock()
	st := s.reg.stats()
	st.Connections = nconns
	st.Totals = Totals{
		Announces:      s.m.nAnnounces.Load(),
		Scrapes:        s.m.nScrapes.Load(),
		OffersRelayed:  s.m.nOffers.Load(),
		AnswersRelayed: s.m.nAnswers.Load(),
		Errors:         s.m.nErrors.Load(),
		Dropped:        s.m.nDropped.Load(),
	}
	return st
}

// StatsHandler serves Stats as JSON (GET /tracker/stats).
func (s *Server) StatsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(s.Stats())
	})
}

func (g *registry) stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := Stats{Swarms: len(g.swarms), Peers: g.relays + g.others, Relays: g.relays, Browsers: g.others,
		PerSwarm: make([]SwarmStats, 0, min(len(g.swarms), maxStatsSwarms))}
	for _, sw := range g.swarms {
		st.PerSwarm = append(st.PerSwarm, SwarmStats{
			InfoHash: sw.hash.String(), InfoHashHex: sw.hash.Hex(),
			Peers: sw.size(), Relays: len(sw.relays), Browsers: len(sw.viewers),
			Complete: sw.complete, Incomplete: sw.incomplete(), Downloaded: sw.downloaded,
		})
	}
	slices.SortFunc(st.PerSwarm, func(a, b SwarmStats) int {
		return cmp.Or(cmp.Compare(b.Peers, a.Peers), cmp.Compare(a.InfoHashHex, b.InfoHashHex))
	})
	if len(st.PerSwarm) > maxStatsSwarms {
		st.PerSwarm, st.Truncated = st.PerSwarm[:maxStatsSwarms], true
	}
	return st
}
