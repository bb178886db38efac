package chatapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/canopylive/canopy/node/comments"
)

// listComments: the latest ?limit= comments, or those after ?since=.
func (s *Server) listComments(w http.ResponseWriter, r *http.Request, stream string) {
	q := r.URL.Query()
	limit := DefaultHistory
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxHistory {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be 1..%d", MaxHistory))
			return
		}
		limit = n
	}
	var (
		list []comments.Comment
		err  error
	)
	if since := q.Get("since"); since != "" {
		cur, perr := parseCursor(since)
		if perr != nil {
			writeError(w, http.StatusBadRequest, perr.Error())
			return
		}
		list, err = s.p.Store.Range(stream, cur, limit)
	} else {
		list, err = s.p.Store.Latest(stream, limit)
	}
	if err != nil {
		s.writeStoreError(w, "reading comments", err)
		return
	}
	out := make([]commentJSON, len(list))
	for i, c := range list {
		out[i] = toJSON(c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"comments": out})
}

type postBody struct {
	Author string `json:"author"`
	Text   string `json:"text"`
}

// postComment validates, rate-limits, stores durably and publishes; the
// 201 is sent only once the comment is on disk here.
func (s *Server) postComment(w http.ResponseWriter, r *http.Request, stream string) {
	var b postBody
	if !readJSON(w, r, &b) {
		return
	}
	if err := comments.ValidateAuthor(b.Author); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := comments.ValidateText(b.Text); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.p.Store.Banned(stream, b.Author) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("%q may not comment on this stream", b.Author))
		return
	}
	if err := s.p.Comments.Allow(b.Author, s.p.ClientAddr(r)); err != nil {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, err.Error())
		return
	}
	nonce, err := comments.NewNonce()
	if err != nil {
		s.writeStoreError(w, "posting", err)
		return
	}
	c := comments.NewComment(stream, b.Author, b.Text, s.p.Clock.Now(), nonce)
	if err := s.p.Sync.Post(r.Context(), c); err != nil {
		s.writeStoreError(w, "storing the comment", err)
		return
	}
	writeJSON(w, http.StatusCreated, toJSON(c))
}

type reactionBody struct {
	Kind string `json:"kind"`
}

func (s *Server) getReactions(w http.ResponseWriter, _ *http.Request, stream string) {
	t, _ := s.p.Sync.Totals(stream)
	counts := map[string]uint64{}
	for _, k := range comments.ReactionKinds() {
		counts[k] = t.Reactions[k]
	}
	writeJSON(w, http.StatusOK, map[string]any{"kinds": comments.ReactionKinds(), "counts": counts})
}

// postReaction counts one tap; it reaches other nodes in this node's next
// tally, never as a message of its own.
func (s *Server) postReaction(w http.ResponseWriter, r *http.Request, stream string) {
	var b reactionBody
	if !readJSON(w, r, &b) {
		return
	}
	if err := comments.ValidateReaction(b.Kind); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.p.Reactions.Allow("", s.p.ClientAddr(r)); err != nil {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too many reactions, slow down")
		return
	}
	if err := s.p.Sync.React(stream, b.Kind); err != nil {
		if errors.Is(err, comments.ErrInvalid) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.writeStoreError(w, "counting the reaction", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"kind": b.Kind})
}
