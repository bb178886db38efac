package commentsync

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canopylive/canopy/node/comments"
)

// Limits and defaults.
const (
	// TopicPrefix + stream is a stream's gossipsub topic.
	TopicPrefix = "/canopy/comments/1/"
	// ProtocolID is the catch-up protocol.
	ProtocolID = "/canopy/comments-sync/1.0.0"
	// MaxMessageSize bounds an encoded comment (gossip and catch-up): 500
	// characters of at most 4 bytes, a 40-character author, a stream name,
	// an ID, a nonce and protobuf overhead fit in well under it.
	MaxMessageSize = 4096
	// MaxPageSize bounds the comments of one catch-up response.
	MaxPageSize = 1000
	// DefaultWindow is how far before its newest comment a node asks.
	DefaultWindow = 10 * time.Minute
	// DefaultRepairInterval and DefaultRepairWindow: the periodic repair.
	DefaultRepairInterval = 30 * time.Second
	DefaultRepairWindow   = 2 * time.Minute
	// DefaultPageTimeout bounds one catch-up request/response.
	DefaultPageTimeout = 10 * time.Second
	// MaxPages bounds the pages of one catch-up from one peer.
	MaxPages = 100
	// maxServing bounds concurrent catch-up requests served.
	maxServing = 8
	// peerQueue bounds gossipsub's per-peer outbound and validation
	// queues (messages).
	peerQueue = 2048
	// meshSettle is how long after a peer joins a topic the node pulls
	// from it a second time (two gossipsub heartbeats and a margin).
	meshSettle = 2500 * time.Millisecond
	// storeWorkers bounds the concurrent Puts of one catch-up page.
	storeWorkers = 16
)

// Params configures a Sync.
type Params struct {
	Host       host.Host
	Store      *comments.Store
	Clock      *comments.Clock
	Logger     *slog.Logger          // slog.Default() when nil
	Registerer prometheus.Registerer // may be nil
	// Delivered, optional, is called once for each comment newly stored
	// from the network or a local Post; it must not block.
	Delivered func(comments.Comment)
	// ModeratorKey is the broadcaster's public key: moderation actions
	// must be signed with it. Without it every action is rejected.
	ModeratorKey ed25519.PublicKey
	// Moderated, optional, is called once for each moderation action newly
	// stored (and applied) here; it must not block.
	Moderated func(comments.SignedAction)
	// Tallied, optional, is called with a stream's totals whenever they
	// change; it must not block.
	Tallied func(stream string, t Totals)
	// Viewers, optional, returns how many viewers this node serves on a
	// stream now; it is published with the node's tally.
	Viewers func(stream string) int
	// TallyInterval is how often the node publishes its tally;
	// DefaultTallyInterval when zero.
	TallyInterval time.Duration
	// Window is how far before its newest comment a node asks peers for
	// comments; DefaultWindow when zero.
	Window time.Duration
	// PageTimeout bounds one catch-up page; DefaultPageTimeout when zero.
	PageTimeout time.Duration
	// RepairInterval is how often a node also pulls from one random topic
	// peer, to repair what gossip dropped under load;
	// DefaultRepairInterval when zero.
	RepairInterval time.Duration
	// RepairWindow is how far before its newest comment that periodic pull
	// asks; DefaultRepairWindow when zero.
	RepairWindow time.Duration
}

// Sync replicates comment stores over gossipsub and a catch-up protocol.
type Sync struct {
	p   Params
	log *slog.Logger
	m   *metrics

	serving chan struct{} // semaphore for catch-up requests served

	mu      sync.Mutex
	ps      *pubsub.PubSub
	ctx     context.Context
	cancel  context.CancelFunc
	streams map[string]*joined
	closed  bool
	wg      sync.WaitGroup
}

// joined is one stream's topics and subscriptions: comments, moderation
// and tallies.
type joined struct {
	topic      *pubsub.Topic
	sub        *pubsub.Subscription
	evts       *pubsub.TopicEventHandler
	mod        *pubsub.Topic
	modSub     *pubsub.Subscription
	tallyTopic *pubsub.Topic
	tallySub   *pubsub.Subscription
	tally      *tallies
}

// cancel ends the subscriptions.
func (j *joined) cancel() {
	for _, sub := range []*pubsub.Subscription{j.sub, j.modSub, j.tallySub} {
		if sub != nil {
			sub.Cancel()
		}
	}
	if j.evts != nil {
		j.evts.Cancel()
	}
}

// close closes the topics; after cancel and once the goroutines are gone.
func (j *joined) close() {
	for _, t := range []*pubsub.Topic{j.topic, j.mod, j.tallyTopic} {
		if t != nil {
			_ = t.Close()
		}
	}
}

// New checks p and returns a Sync; Start starts it.
func New(p Params) (*Sync, error) {
	if p.Host == nil || p.Store == nil || p.Clock == nil {
		return nil, fmt.Errorf("%w: Host, Store and Clock are required", ErrParams)
	}
	if p.Window < 0 || p.PageTimeout < 0 || p.RepairInterval < 0 || p.RepairWindow < 0 || p.TallyInterval < 0 {
		return nil, fmt.Errorf("%w: negative Window, PageTimeout, RepairInterval, RepairWindow or TallyInterval", ErrParams)
	}
	if p.TallyInterval == 0 {
		p.TallyInterval = DefaultTallyInterval
	}
	if p.RepairInterval == 0 {
		p.RepairInterval = DefaultRepairInterval
	}
	if p.RepairWindow == 0 {
		p.RepairWindow = DefaultRepairWindow
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Window == 0 {
		p.Window = DefaultWindow
	}
	if p.PageTimeout == 0 {
		p.PageTimeout = DefaultPageTimeout
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	return &Sync{
		p:       p,
		log:     p.Logger.With("component", "commentsync"),
		m:       m,
		serving: make(chan struct{}, maxServing),
		streams: make(map[string]*joined),
	}, nil
}

// messageID is the gossipsub message ID: on a comment topic the comment's
// content ID, otherwise (moderation, tallies, and data that is not a
// comment, which the validator rejects anyway) a hash of the bytes.
func messageID(m *pb.Message) string {
	if strings.HasPrefix(m.GetTopic(), TopicPrefix) && len(m.Data) <= MaxMessageSize {
		if c, err := comments.Decode(m.Data); err == nil && len(c.ID) == comments.IDLength {
			return c.ID
		}
	}
	sum := sha256.Sum256(m.Data)
	return "raw:" + string(sum[:])
}

// Start creates the GossipSub router on the host and the catch-up handler.
// Everything stops when ctx is done or at Close.
func (s *Sync) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.ps != nil {
		return fmt.Errorf("%w: Start called twice or after Close", ErrNotStarted)
	}
	ctx, cancel := context.WithCancel(ctx)
	ps, err := pubsub.NewGossipSub(ctx, s.p.Host,
		pubsub.WithMessageIdFn(messageID),
		// A comment is content-addressed: its ID authenticates its content
		// and the validator checks it, so per-hop message signatures (an
		// Ed25519 verification of every copy, duplicates included) add
		// nothing and cost most of the CPU under load.
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		// A local post goes to every topic peer, not only the mesh: a
		// comment posted before the mesh has formed is not lost.
		pubsub.WithFloodPublish(true),
		// Bursts (a catch-up republishing a healed partition's comments)
		// must not overflow a peer's queue, where gossipsub drops.
		pubsub.WithPeerOutboundQueueSize(peerQueue),
		pubsub.WithValidateQueueSize(peerQueue),
		pubsub.WithRawTracer(tracer{s.m}),
		pubsub.WithMaxMessageSize(MaxMessageSize+1024), // envelope: signature, key, topic
	)
	if err != nil {
		cancel()
		return fmt.Errorf("commentsync: gossipsub: %w", err)
	}
	s.ps, s.ctx, s.cancel = ps, ctx, cancel
	s.p.Host.SetStreamHandler(ProtocolID, s.serve)
	s.p.Host.SetStreamHandler(ModerationProtocolID, s.serveActions)
	return nil
}

// Close leaves every topic, stops the catch-up handler and waits for the
// Sync's goroutines. It does not close the host or the store.
func (s *Sync) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	started := s.ps != nil
	streams := s.streams
	s.streams = map[string]*joined{}
	s.mu.Unlock()
	if !started {
		return nil
	}
	s.p.Host.RemoveStreamHandler(ProtocolID)
	s.p.Host.RemoveStreamHandler(ModerationProtocolID)
	s.cancel()
	for _, j := range streams {
		j.cancel()
	}
	s.wg.Wait()
	for _, j := range streams {
		j.close()
	}
	return nil
}

// Join subscribes to the stream's topic; catch-up from every peer sharing
// the topic follows in the background (now and whenever one appears).
func (s *Sync) Join(stream string) error {
	if err := comments.ValidateStream(stream); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ps == nil || s.closed {
		return ErrNotStarted
	}
	if _, ok := s.streams[stream]; ok {
		return nil
	}
	j := &joined{tally: newTallies()}
	if err := s.join(stream, j); err != nil {
		j.cancel()
		j.close()
		return err
	}
	s.restoreTally(stream, j.tally)
	s.streams[stream] = j
	s.wg.Add(5)
	go s.drain(j.sub)
	go s.drain(j.modSub)
	go s.drain(j.tallySub)
	go s.catchUpLoop(stream, j.topic, j.evts)
	go s.tallyLoop(stream, j)
	return nil
}

// join registers the validators of stream's three topics and subscribes.
func (s *Sync) join(stream string, j *joined) error {
	var err error
	if j.topic, j.sub, err = s.subscribe(TopicPrefix+stream, s.validator(stream)); err != nil {
		return err
	}
	if j.evts, err = j.topic.EventHandler(); err != nil {
		return fmt.Errorf("commentsync: events %s: %w", stream, err)
	}
	if j.mod, j.modSub, err = s.subscribe(ModerationTopicPrefix+stream, s.modValidator(stream)); err != nil {
		return err
	}
	j.tallyTopic, j.tallySub, err = s.subscribe(TallyTopicPrefix+stream, s.tallyValidator(stream, j))
	return err
}

func (s *Sync) subscribe(name string, v pubsub.ValidatorEx) (*pubsub.Topic, *pubsub.Subscription, error) {
	if err := s.ps.RegisterTopicValidator(name, v); err != nil {
		return nil, nil, fmt.Errorf("commentsync: validator %s: %w", name, err)
	}
	topic, err := s.ps.Join(name)
	if err != nil {
		return nil, nil, fmt.Errorf("commentsync: join %s: %w", name, err)
	}
	sub, err := topic.Subscribe(pubsub.WithBufferSize(peerQueue))
	if err != nil {
		_ = topic.Close()
		return nil, nil, fmt.Errorf("commentsync: subscribe %s: %w", name, err)
	}
	return topic, sub, nil
}

// drain empties the subscription: comments are stored by the validator.
func (s *Sync) drain(sub *pubsub.Subscription) {
	defer s.wg.Done()
	for {
		if _, err := sub.Next(s.ctx); err != nil {
			return
		}
	}
}

// Post stores c durably, then publishes it on its stream's topic. The
// stream must have been joined. A nil error means c is stored here; ctx
// bounds validation and the store write. Publishing has its own deadline,
// and a publish that fails is logged: peers get c through catch-up and the
// periodic repair.
func (s *Sync) Post(ctx context.Context, c comments.Comment) error {
	if err := comments.Validate(c); err != nil {
		return err
	}
	s.mu.Lock()
	j, ok := s.streams[c.Stream]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotJoined, c.Stream)
	}
	b, err := comments.Encode(c)
	if err != nil {
		return err
	}
	if len(b) > MaxMessageSize {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	if _, err := s.p.Clock.Update(c.HLC); err != nil {
		return err
	}
	n, err := s.p.Store.Put(ctx, []comments.Comment{c})
	if err != nil {
		return err
	}
	if n > 0 {
		s.delivered(c)
	}
	// The comment is durable here, so the caller's deadline (an HTTP
	// request's, say) no longer applies: publishing gets its own. A publish
	// that still fails loses nothing: peers fetch the comment through
	// catch-up and the periodic repair.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := j.topic.Publish(pctx, b); err != nil {
		s.log.Warn("publish failed; peers will repair from the store", "stream", c.Stream, "id", c.ID, "err", err)
	}
	return nil
}

// publishTimeout bounds one publish after the comment is stored.
const publishTimeout = 30 * time.Second

func (s *Sync) delivered(c comments.Comment) {
	s.m.stored.Inc()
	if s.p.Delivered != nil {
		s.p.Delivered(c)
	}
}
