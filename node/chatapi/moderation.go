package chatapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/canopylive/canopy/node/comments"
)

// signedJSON answers a moderation request: the action's ID and its signed
// wire form (base64), which any other node takes at POST …/moderation.
type signedJSON struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Signed string `json:"signed"`
}

// authorize checks the broadcaster credential; it answers 401/403 itself.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, stream string) bool {
	if s.p.Signer == nil {
		writeError(w, http.StatusForbidden, "this server does not hold the broadcaster's key: send moderation to the origin, "+
			"or POST an action it signed to /api/v1/streams/"+stream+"/moderation")
		return false
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="canopy"`)
		writeError(w, http.StatusUnauthorized, "moderation needs the stream's broadcaster credential (Authorization: Bearer <stream key>)")
		return false
	}
	if !s.p.Authorize(stream, token) {
		writeError(w, http.StatusForbidden, "wrong broadcaster credential for this stream")
		return false
	}
	return true
}

// signAndApply signs a for the broadcaster, applies and publishes it.
func (s *Server) signAndApply(w http.ResponseWriter, r *http.Request, a comments.Action, status int) {
	nonce, err := comments.NewNonce()
	if err != nil {
		s.writeStoreError(w, "moderation", err)
		return
	}
	a.At, a.Nonce = s.p.Clock.Now(), nonce
	sa, err := comments.SignAction(s.p.Signer, a)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.apply(w, r, sa, status)
}

func (s *Server) apply(w http.ResponseWriter, r *http.Request, sa comments.SignedAction, status int) {
	if err := s.p.Sync.Moderate(r.Context(), sa); err != nil {
		if errors.Is(err, comments.ErrBadSignature) {
			writeError(w, http.StatusForbidden, err.Error())
			return
		}
		s.writeStoreError(w, "moderation", err)
		return
	}
	s.log.Info("moderation", "stream", sa.Stream, "kind", sa.Kind.String(), "id", sa.ID)
	writeJSON(w, status, signedJSON{ID: sa.ID, Kind: sa.Kind.String(), Signed: base64.StdEncoding.EncodeToString(comments.EncodeSigned(sa))})
}

func (s *Server) deleteComment(w http.ResponseWriter, r *http.Request, stream string) {
	if !s.authorize(w, r, stream) {
		return
	}
	s.signAndApply(w, r, comments.Action{Stream: stream, Kind: comments.ActDelete, CommentID: r.PathValue("id")}, http.StatusOK)
}

func (s *Server) postBan(w http.ResponseWriter, r *http.Request, stream string) {
	if !s.authorize(w, r, stream) {
		return
	}
	var b struct {
		Author string `json:"author"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	s.signAndApply(w, r, comments.Action{Stream: stream, Kind: comments.ActBan, Author: b.Author}, http.StatusOK)
}

func (s *Server) postAnnouncement(w http.ResponseWriter, r *http.Request, stream string) {
	if !s.authorize(w, r, stream) {
		return
	}
	var b struct {
		Kind      string  `json:"kind"`
		Text      string  `json:"text"`
		DurationS float64 `json:"duration_s"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	if b.DurationS <= 0 || b.DurationS > comments.MaxAnnouncement.Seconds() {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("duration_s must be %g..%g", comments.MinAnnouncement.Seconds(), comments.MaxAnnouncement.Seconds()))
		return
	}
	a := comments.Action{Stream: stream, Kind: comments.ActAnnounce, Announce: comments.Announcement{
		Kind: b.Kind, Text: b.Text, Duration: time.Duration(b.DurationS * float64(time.Second))}}
	s.signAndApply(w, r, a, http.StatusCreated)
}

// postSigned takes an action the broadcaster signed elsewhere: the body is
// its wire form, raw (application/octet-stream) or base64.
func (s *Server) postSigned(w http.ResponseWriter, r *http.Request, stream string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2*comments.MaxSignedActionSize))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "signed action too large")
		return
	}
	if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(body))); err == nil {
		body = dec
	}
	sa, err := comments.VerifyAction(s.p.Sync.ModeratorKey(), body)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, comments.ErrBadSignature) {
			status = http.StatusForbidden
		}
		writeError(w, status, err.Error())
		return
	}
	if sa.Stream != stream {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("action is for stream %q, not %q", sa.Stream, stream))
		return
	}
	s.apply(w, r, sa, http.StatusOK)
}

func (s *Server) getAnnouncements(w http.ResponseWriter, _ *http.Request, stream string) {
	now := s.p.Now()
	list, err := s.p.Store.Announcements(stream, now)
	if err != nil {
		s.writeStoreError(w, "reading announcements", err)
		return
	}
	out := make([]announcementJSON, len(list))
	for i, a := range list {
		out[i] = announcementOf(a, now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"announcements": out})
}
