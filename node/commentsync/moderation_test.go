package commentsync

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/canopylive/canopy/node/comments"
)

// moderator is a broadcaster key and the option that makes a node trust it.
type moderator struct {
	key ed25519.PrivateKey
}

func newModerator(t *testing.T) moderator {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return moderator{key: key}
}

func (m moderator) trust(p *Params) { p.ModeratorKey = m.key.Public().(ed25519.PublicKey) }

// sign returns a signed action of kind on testStream, stamped by n's clock.
func (m moderator) sign(t *testing.T, n *node, a comments.Action) comments.SignedAction {
	t.Helper()
	a.Stream, a.At = testStream, n.clock.Now()
	nonce, err := comments.NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	a.Nonce = nonce
	sa, err := comments.SignAction(m.key, a)
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

// modLog records each node's Moderated calls.
type modLog struct {
	mu  sync.Mutex
	ids map[string]int // action ID -> calls
}

func (l *modLog) hook(p *Params) {
	p.Moderated = func(sa comments.SignedAction) {
		l.mu.Lock()
		l.ids[sa.ID]++
		l.mu.Unlock()
	}
}

func (l *modLog) calls(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ids[id]
}

func moderate(t *testing.T, n *node, sa comments.SignedAction) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.sync.Moderate(ctx, sa); err != nil {
		t.Fatal(err)
	}
}

// TestModerationReplicates: a delete and a ban made at one end of a line of
// three nodes apply on every node, once; an action signed with another key
// is refused by Moderate and, published by a node that trusts that key, is
// rejected by every honest node.
func TestModerationReplicates(t *testing.T) {
	mod, rogue := newModerator(t), newModerator(t)
	logs := make([]*modLog, 3)
	ns := make([]*node, 3)
	for i := range ns {
		logs[i] = &modLog{ids: map[string]int{}}
		ns[i] = startNode(t, "", nil, mod.trust, logs[i].hook)
	}
	evil := startNode(t, "", nil, rogue.trust)
	connect(t, ns[0], ns[1])
	connect(t, ns[1], ns[2])
	connect(t, evil, ns[1])

	victim := post(t, ns[0], "spam")
	keep := post(t, ns[0], "fine")
	eventually(t, 10*time.Second, func() string {
		var out string
		for i, n := range ns {
			out += fmt.Sprintf(" node %d: %d comments, drops %v, rejected %v, peers %d;", i, count(t, n), n.drops(), n.rejected(),
				len(n.sync.streams[testStream].topic.ListPeers()))
		}
		return "comments not replicated:" + out
	}, allHave(t, ns, 2))

	// Forged: Moderate refuses it locally.
	forged := rogue.sign(t, ns[2], comments.Action{Kind: comments.ActDelete, CommentID: keep.ID})
	if err := ns[2].sync.Moderate(context.Background(), forged); !errors.Is(err, comments.ErrBadSignature) {
		t.Fatalf("Moderate with the wrong key: %v", err)
	}
	// Forged and published by a node that trusts the rogue key.
	eventually(t, 10*time.Second, msg("rogue node never joined the moderation mesh"), func() bool {
		return len(evil.sync.streams[testStream].mod.ListPeers()) > 0
	})
	moderate(t, evil, forged)

	del := mod.sign(t, ns[2], comments.Action{Kind: comments.ActDelete, CommentID: victim.ID})
	ban := mod.sign(t, ns[2], comments.Action{Kind: comments.ActBan, Author: "troll"})
	moderate(t, ns[2], del)
	moderate(t, ns[2], ban)
	eventually(t, 10*time.Second, func() string {
		var out string
		for i, n := range ns {
			out += fmt.Sprintf(" node %d: %d comments, banned %v, drops %v, rejected %v, mod peers %d;", i, count(t, n),
				n.store.Banned(testStream, "troll"), n.drops(), n.rejected(), len(n.sync.streams[testStream].mod.ListPeers()))
		}
		return "delete not applied everywhere:" + out
	}, allHave(t, ns, 1))
	for i, n := range ns {
		eventually(t, 10*time.Second, msg(fmt.Sprintf("node %d never banned troll", i)), func() bool {
			return n.store.Banned(testStream, "troll")
		})
		if n.store.Has(victim.ID) || !n.store.Has(keep.ID) {
			t.Errorf("node %d: victim stored %v, kept comment stored %v", i, n.store.Has(victim.ID), n.store.Has(keep.ID))
		}
		// The store shows the delete a moment before Moderated is called
		// (the callback follows the durable write): wait for it.
		eventually(t, 10*time.Second, msg(fmt.Sprintf("node %d: Moderated never called for the delete", i)), func() bool {
			return logs[i].calls(del.ID) >= 1
		})
		if c := logs[i].calls(forged.ID); c != 0 {
			t.Errorf("node %d applied the forged delete", i)
		}
	}
	for i := range ns { // and only once, however many copies arrived
		if c := logs[i].calls(del.ID); c != 1 {
			t.Errorf("node %d: Moderated called %d times for the delete", i, c)
		}
	}
	if rej := ns[1].rejected(); rej < 1 {
		t.Errorf("the forged action was not rejected by its honest neighbour (rejects %v)", rej)
	}
	// A banned author's comment is not taken by any honest node.
	troll := ns[0].newComment("again")
	troll = comments.NewComment(testStream, "troll", "again", troll.HLC, troll.Nonce)
	if err := ns[0].sync.Post(context.Background(), troll); err != nil {
		t.Fatal(err) // Post stores (the HTTP layer checks bans); peers ignore it
	}
	later := post(t, ns[0], "after the ban")
	eventually(t, 10*time.Second, msg("comment after the ban not replicated"), func() bool { return ns[2].store.Has(later.ID) })
	if ns[1].store.Has(troll.ID) || ns[2].store.Has(troll.ID) {
		t.Error("a banned author's comment was replicated")
	}
}

// TestModerationCatchUp: a node that was down while a comment was deleted
// applies the delete when it is back, before merging comments, and does
// not resurrect the comment on the others.
func TestModerationCatchUp(t *testing.T) {
	mod := newModerator(t)
	a := startNode(t, "", nil, mod.trust)
	dir := t.TempDir()
	b := startNode(t, dir, nil, mod.trust)
	connect(t, a, b)
	c := post(t, a, "soon gone")
	eventually(t, 10*time.Second, msg("b never got the comment"), func() bool { return b.store.Has(c.ID) })
	b.stop()

	del := mod.sign(t, a, comments.Action{Kind: comments.ActDelete, CommentID: c.ID})
	moderate(t, a, del)
	ann := mod.sign(t, a, comments.Action{Kind: comments.ActAnnounce,
		Announce: comments.Announcement{Kind: comments.AnnounceNews, Text: "Back in 5", Duration: time.Minute}})
	moderate(t, a, ann)

	b = startNode(t, dir, nil, mod.trust)
	connect(t, a, b)
	eventually(t, 10*time.Second, msg("b never applied the delete it missed"), func() bool { return !b.store.Has(c.ID) })
	eventually(t, 10*time.Second, msg("b never got the announcement it missed"), func() bool {
		live, _ := b.store.Announcements(testStream, time.Now())
		return len(live) == 1 && live[0].ID == ann.ID
	})
	if a.store.Has(c.ID) {
		t.Fatal("the deleted comment came back on a")
	}
}

// TestTallies: every node's reactions and viewers add up on every node, and
// a restarted node keeps counting from where it was.
func TestTallies(t *testing.T) {
	fast := func(p *Params) { p.TallyInterval = 50 * time.Millisecond }
	viewers := func(n int) func(*Params) {
		return func(p *Params) { p.Viewers = func(string) int { return n } }
	}
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	ns := make([]*node, 3)
	for i := range ns {
		ns[i] = startNode(t, dirs[i], nil, fast, viewers(i+1))
	}
	connect(t, ns[0], ns[1])
	connect(t, ns[1], ns[2])
	react := func(n *node, kind string, times int) {
		for range times {
			if err := n.sync.React(testStream, kind); err != nil {
				t.Fatal(err)
			}
		}
	}
	react(ns[0], "like", 3)
	react(ns[1], "like", 2)
	react(ns[2], "clap", 5)
	if err := ns[0].sync.React(testStream, "boo"); !errors.Is(err, comments.ErrInvalid) {
		t.Fatalf("unknown kind: %v", err)
	}
	want := func(like, clap uint64, viewers int) func() bool {
		return func() bool {
			for _, n := range ns {
				tot, ok := n.sync.Totals(testStream)
				if !ok || tot.Reactions["like"] != like || tot.Reactions["clap"] != clap || tot.Viewers != viewers {
					return false
				}
			}
			return true
		}
	}
	totals := func() string {
		var out []Totals
		for _, n := range ns {
			tot, _ := n.sync.Totals(testStream)
			out = append(out, tot)
		}
		return fmt.Sprintf("totals %+v", out)
	}
	eventually(t, 10*time.Second, totals, want(5, 5, 6))

	ns[2].stop()
	eventually(t, 10*time.Second, totals, func() bool {
		tot, _ := ns[0].sync.Totals(testStream)
		return tot.Viewers == 3 && tot.Reactions["clap"] == 5 // viewers expire, reactions stay
	})
	ns[2] = startNode(t, dirs[2], nil, fast, viewers(3))
	connect(t, ns[1], ns[2])
	react(ns[2], "clap", 1)
	eventually(t, 10*time.Second, totals, want(5, 6, 6))
}
