package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/node/chatapi"
	"github.com/canopylive/canopy/node/comments"
	"github.com/canopylive/canopy/node/commentsync"
)

// conversation is one server's comments stack: the Badger store, the
// gossipsub replication on the server's libp2p host, the event hub and the
// HTTP API. The origin and every relay node run one.
type conversation struct {
	store  *comments.Store
	sync   *commentsync.Sync
	api    *chatapi.Server
	cancel context.CancelFunc
}

type conversationParams struct {
	Host    host.Host
	Dir     string   // the store's Badger directory
	Streams []string // joined at start; the API serves only these
	// ModeratorKey verifies moderation; Signer (the origin only) signs it
	// for callers Authorize accepts.
	ModeratorKey ed25519.PublicKey
	Signer       ed25519.PrivateKey
	Authorize    func(stream, token string) bool
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
}

func startConversation(ctx context.Context, p conversationParams) (*conversation, error) {
	log := p.Logger.With("component", "comments")
	store, err := comments.Open(comments.StoreParams{Dir: p.Dir, Logger: log})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &conversation{store: store, cancel: cancel}
	store.Start(ctx)
	fail := func(err error) (*conversation, error) { return nil, errors.Join(err, c.Close()) }
	clock, err := comments.NewClock(comments.ClockParams{})
	if err != nil {
		return fail(err)
	}
	hub, err := chatapi.NewHub(chatapi.HubParams{Logger: p.Logger, Registerer: p.Registerer})
	if err != nil {
		return fail(err)
	}
	c.sync, err = commentsync.New(commentsync.Params{Host: p.Host, Store: store, Clock: clock, Logger: p.Logger,
		Registerer: p.Registerer, ModeratorKey: p.ModeratorKey,
		Delivered: hub.Comment, Moderated: hub.Moderation, Tallied: hub.Tally, Viewers: hub.Viewers})
	if err != nil {
		return fail(err)
	}
	if err := c.sync.Start(ctx); err != nil {
		return fail(err)
	}
	for _, s := range p.Streams {
		if err := c.sync.Join(s); err != nil {
			return fail(err)
		}
	}
	posts, err := comments.NewRateLimiter(comments.RateLimiterParams{})
	if err != nil {
		return fail(err)
	}
	// Reactions: 5 a second per address, bursts of 20 (a burst of taps).
	taps, err := comments.NewRateLimiter(comments.RateLimiterParams{PerAddress: comments.Bucket{Rate: 5, Burst: 20}})
	if err != nil {
		return fail(err)
	}
	streams := slices.Clone(p.Streams)
	c.api, err = chatapi.New(chatapi.Params{Hub: hub, Sync: c.sync, Store: store, Clock: clock,
		Streams:  func(s string) bool { return slices.Contains(streams, s) },
		Comments: posts, Reactions: taps, Signer: p.Signer, Authorize: p.Authorize, Logger: p.Logger})
	if err != nil {
		return fail(err)
	}
	return c, nil
}

// Register adds the API's routes.
func (c *conversation) Register(mux *http.ServeMux) { c.api.Register(mux) }

// Close stops replication and closes the store; the host is the caller's.
func (c *conversation) Close() error {
	var err error
	if c.sync != nil {
		err = c.sync.Close()
	}
	c.cancel()
	return errors.Join(err, c.store.Close())
}
