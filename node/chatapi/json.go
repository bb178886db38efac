package chatapi

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/canopylive/canopy/node/comments"
)

// commentJSON is a comment as the API and the event feed show it.
type commentJSON struct {
	ID     string `json:"id"`
	Stream string `json:"stream"`
	Author string `json:"author"`
	Text   string `json:"text"`
	At     int64  `json:"at"`     // Unix ms (the HLC's wall part)
	Cursor string `json:"cursor"` // pass as ?since= or Last-Event-ID
}

func toJSON(c comments.Comment) commentJSON {
	return commentJSON{ID: c.ID, Stream: c.Stream, Author: c.Author, Text: c.Text, At: c.HLC.WallMS, Cursor: formatCursor(c.Cursor())}
}

// formatCursor writes a cursor as "<wall ms>.<logical>.<id>".
func formatCursor(c comments.Cursor) string {
	return fmt.Sprintf("%d.%d.%s", c.HLC.WallMS, c.HLC.Logical, c.ID)
}

// parseCursor reads formatCursor's form. A bare "<wall ms>" selects the
// comments from that time on.
func parseCursor(s string) (comments.Cursor, error) {
	parts := strings.SplitN(s, ".", 3)
	wall, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || wall < 0 {
		return comments.Cursor{}, fmt.Errorf("cursor %q: want <ms>.<logical>.<id> or <ms>", truncate(s, 80))
	}
	c := comments.Cursor{HLC: comments.Timestamp{WallMS: wall}}
	if len(parts) == 1 {
		return c, nil
	}
	if len(parts) != 3 {
		return comments.Cursor{}, fmt.Errorf("cursor %q: want <ms>.<logical>.<id>", truncate(s, 80))
	}
	logical, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || len(parts[2]) > comments.IDLength {
		return comments.Cursor{}, fmt.Errorf("cursor %q: want <ms>.<logical>.<id>", truncate(s, 80))
	}
	c.HLC.Logical, c.ID = uint32(logical), parts[2]
	return c, nil
}

// announcementJSON is an announcement event.
type announcementJSON struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Text        string `json:"text"`
	At          int64  `json:"at"`           // Unix ms when issued
	Until       int64  `json:"until"`        // Unix ms when it stops showing
	RemainingMS int64  `json:"remaining_ms"` // display time left when sent
}

func announcementOf(sa comments.SignedAction, now time.Time) announcementJSON {
	until := sa.Until()
	return announcementJSON{ID: sa.ID, Kind: sa.Announce.Kind, Text: sa.Announce.Text, At: sa.At.WallMS,
		Until: until.UnixMilli(), RemainingMS: max(0, until.Sub(now).Milliseconds())}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
