package commentsync

import (
	"context"
	"strings"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/canopylive/canopy/internal/p2p"
	"github.com/canopylive/canopy/node/comments"
)

// rawComment encodes fields by hand, so that invalid UTF-8 gets through.
func rawComment(c comments.Comment) []byte {
	var b []byte
	for i, s := range []string{c.ID, c.Stream, c.Author, c.Text} {
		b = protowire.AppendTag(b, protowire.Number(i+1), protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = protowire.AppendTag(b, 5, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(c.HLC.WallMS))
	b = protowire.AppendTag(b, 6, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(c.HLC.Logical))
	b = protowire.AppendTag(b, 7, protowire.BytesType)
	return protowire.AppendBytes(b, c.Nonce[:])
}

func TestValidatorRejects(t *testing.T) {
	ns := make([]*node, 3)
	for i := range ns {
		ns[i] = startNode(t, "", nil)
	}
	connect(t, ns[0], ns[1])
	connect(t, ns[1], ns[2])

	// A raw publisher: plain gossipsub, no validator of ours.
	h, err := p2p.NewHost(p2p.HostParams{Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ps, err := pubsub.NewGossipSub(ctx, h, pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign), pubsub.WithMessageIdFn(messageID))
	if err != nil {
		t.Fatal(err)
	}
	topic, err := ps.Join(TopicPrefix + testStream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topic.Close() })
	for _, n := range ns {
		if err := h.Connect(ctx, n.h.Peerstore().PeerInfo(n.h.ID())); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, msg("raw publisher sees the topic"), func() bool { return len(topic.ListPeers()) == len(ns) })

	nonce := func() [comments.NonceSize]byte {
		n, err := comments.NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	now := comments.Timestamp{WallMS: time.Now().UnixMilli()}
	badID := comments.NewComment(testStream, "mallory", "bad id", now, nonce())
	badID.ID = strings.Repeat("0", comments.IDLength)
	badUTF8 := comments.NewComment(testStream, "mallory", "bad \xff utf8", now, nonce())
	future := comments.NewComment(testStream, "mallory", "from the future",
		comments.Timestamp{WallMS: time.Now().Add(time.Hour).UnixMilli()}, nonce())
	control := comments.NewComment(testStream, "mallory", "bell\a", now, nonce())
	other := comments.NewComment("other", "mallory", "wrong topic", now, nonce())
	oversize := comments.NewComment(testStream, "mallory", strings.Repeat("x", 3000), now, nonce())
	cases := []struct {
		name string
		c    comments.Comment
	}{
		{"bad ID", badID}, {"invalid UTF-8", badUTF8}, {"HLC an hour ahead", future},
		{"control character", control}, {"stream of another topic", other}, {"text of 3000 characters", oversize},
	}
	for _, tc := range cases {
		if err := topic.Publish(ctx, rawComment(tc.c)); err != nil {
			t.Fatalf("%s: publish: %v", tc.name, err)
		}
	}
	if err := topic.Publish(ctx, []byte("not a comment")); err != nil {
		t.Fatal(err)
	}
	// A valid marker published last by the same peer: once every node has
	// it, the bad ones before it have been through the validators.
	marker := comments.NewComment(testStream, "mallory", "valid marker", now, nonce())
	if err := topic.Publish(ctx, rawComment(marker)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, msg("marker not delivered"), func() bool {
		for _, n := range ns {
			if !n.store.Has(marker.ID) {
				return false
			}
		}
		return true
	})
	for _, tc := range cases {
		for i, n := range ns {
			if n.store.Has(tc.c.ID) || n.store.Has(tc.c.ComputeID()) {
				t.Errorf("%s: stored on node %d", tc.name, i)
			}
		}
	}
	for i, n := range ns {
		if c := count(t, n); c != 1 {
			t.Errorf("node %d stores %d comments, want only the marker", i, c)
		}
	}
}
