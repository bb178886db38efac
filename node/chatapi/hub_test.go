package chatapi

import (
	"testing"

	"github.com/canopylive/canopy/node/comments"
	"github.com/canopylive/canopy/node/commentsync"
)

// TestHubDropsSlowSubscriber: a subscriber whose queue is full is dropped
// (and counted) without blocking the producer or its siblings.
func TestHubDropsSlowSubscriber(t *testing.T) {
	h, err := NewHub(HubParams{QueueSize: 2, MaxSubscribers: 3})
	if err != nil {
		t.Fatal(err)
	}
	slow, _ := h.subscribe("demo")
	fast, _ := h.subscribe("demo")
	other, _ := h.subscribe("other")
	if _, ok := h.subscribe("demo"); ok {
		t.Fatal("a subscriber over MaxSubscribers was taken")
	}
	c := comments.NewComment("demo", "a", "x", comments.Timestamp{WallMS: 1}, [comments.NonceSize]byte{})
	for i := range 3 {
		h.Comment(c)
		if i < 2 {
			<-fast.ch // fast keeps up
		}
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("the slow subscriber was not dropped")
	}
	select {
	case <-fast.gone:
		t.Fatal("a subscriber that kept up was dropped")
	default:
	}
	if len(other.ch) != 0 {
		t.Fatal("another stream's subscriber got the event")
	}
	if h.Viewers("demo") != 1 {
		t.Fatalf("viewers %d, want 1 after the drop", h.Viewers("demo"))
	}
	// The freed slot is usable again.
	if _, ok := h.subscribe("demo"); !ok {
		t.Fatal("no slot after a drop")
	}
	<-fast.ch // the third comment
	h.Tally("demo", commentsync.Totals{Reactions: map[string]uint64{"like": 1}, Viewers: 2})
	h.Tally("demo", commentsync.Totals{Reactions: map[string]uint64{"like": 1}, Viewers: 2})
	names := map[string]int{}
	for len(fast.ch) > 0 {
		names[(<-fast.ch).name]++
	}
	if names["reactions"] != 1 || names["viewers"] != 1 {
		t.Fatalf("unchanged totals were sent again: %v", names)
	}
}
