package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// replyTimeout is how long an announce may wait for its reply.
const replyTimeout = 10 * time.Second

// load is the Go load client: peers WebSocket connections spread over
// swarms, each announcing with 1-2 dummy offers and answering the offers
// it receives.
type load struct {
	cfg   config
	peers []*loadPeer
	wg    sync.WaitGroup // reader goroutines

	mu        sync.Mutex
	latencies []time.Duration

	failures, timeouts, offersIn, answersIn, answersOut atomic.Int64
}

type loadPeer struct {
	l      *load
	ws     *websocket.Conn
	index  int
	hash   string
	id     string
	offers int
	reply  chan string // "" for an announce reply, else the failure reason
}

// message is what the load client reads from the tracker.
type message struct {
	Interval *int            `json:"interval"`
	Offer    json.RawMessage `json:"offer"`
	Answer   json.RawMessage `json:"answer"`
	OfferID  json.RawMessage `json:"offer_id"`
	PeerID   string          `json:"peer_id"`
	Failure  string          `json:"failure reason"`
}

// connect opens every peer's socket to url, 64 at a time.
func connect(ctx context.Context, cfg config, url string) (*load, error) {
	l := &load{cfg: cfg, peers: make([]*loadPeer, cfg.peers)}
	sem := make(chan struct{}, 64)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for i := range l.peers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p, err := l.dial(ctx, url, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			l.peers[i] = p
		})
	}
	wg.Wait()
	if firstErr != nil {
		l.close()
		return nil, fmt.Errorf("connecting %d peers: %w", cfg.peers, firstErr)
	}
	return l, nil
}

func (l *load) dial(ctx context.Context, url string, i int) (*loadPeer, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, url, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	p := &loadPeer{l: l, ws: ws, index: i, hash: swarmHash(i % l.cfg.swarms), id: peerID(i),
		offers: 1 + i%2, reply: make(chan string, 1)}
	l.wg.Go(p.readLoop)
	return p, nil
}

// swarmHash and peerID are 20-character ASCII strings, as p2p-media-loader's.
func swarmHash(i int) string { return fmt.Sprintf("canopy-bench-%07d", i) }
func peerID(i int) string    { return fmt.Sprintf("-PM0203-%012d", i) }

// readLoop handles everything the tracker sends to p.
func (p *loadPeer) readLoop() {
	for {
		_, data, err := p.ws.Read(context.Background())
		if err != nil {
			return
		}
		var m message
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch {
		case m.Failure != "":
			p.l.failures.Add(1)
			p.deliver(m.Failure)
		case m.Interval != nil:
			p.deliver("")
		case m.Offer != nil:
			p.l.offersIn.Add(1)
			p.answer(m)
		case m.Answer != nil:
			p.l.answersIn.Add(1)
		}
	}
}

func (p *loadPeer) deliver(failure string) {
	select {
	case p.reply <- failure:
	default:
	}
}

// answer replies to an offer with a dummy answer.
func (p *loadPeer) answer(m message) {
	msg, _ := json.Marshal(map[string]any{"action": "announce", "info_hash": p.hash, "peer_id": p.id,
		"to_peer_id": m.PeerID, "offer_id": m.OfferID,
		"answer": map[string]string{"type": "answer", "sdp": dummySDP("answer", p.id)}})
	ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
	defer cancel()
	if p.ws.Write(ctx, websocket.MessageText, msg) == nil {
		p.l.answersOut.Add(1)
	}
}

// announce sends one announce and records the time to its reply.
func (p *loadPeer) announce(round int) {
	event := "update"
	if round == 0 {
		event = "started"
	}
	offers := make([]map[string]any, p.offers)
	for i := range offers {
		offers[i] = map[string]any{"offer_id": randomID(),
			"offer": map[string]string{"type": "offer", "sdp": dummySDP("offer", p.id)}}
	}
	msg, _ := json.Marshal(map[string]any{"action": "announce", "info_hash": p.hash, "peer_id": p.id,
		"numwant": 5, "uploaded": 0, "downloaded": 0, "event": event, "offers": offers})
	select { // a late reply of the previous round
	case <-p.reply:
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
	defer cancel()
	start := time.Now()
	if err := p.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		p.l.timeouts.Add(1)
		return
	}
	select {
	case failure := <-p.reply:
		if failure == "" {
			p.l.record(time.Since(start))
		}
	case <-ctx.Done():
		p.l.timeouts.Add(1)
	}
}

func (l *load) record(d time.Duration) {
	l.mu.Lock()
	l.latencies = append(l.latencies, d)
	l.mu.Unlock()
}

// run makes every peer announce cfg.rounds times; within a round the
// announces are spread evenly over cfg.spread.
func (l *load) run(ctx context.Context) error {
	for round := range l.cfg.rounds {
		start := time.Now()
		var wg sync.WaitGroup
		for i, p := range l.peers {
			due := start.Add(time.Duration(int64(l.cfg.spread) * int64(i) / int64(len(l.peers))))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					wg.Wait()
					return ctx.Err()
				case <-t.C:
				}
			}
			wg.Go(func() { p.announce(round) })
		}
		wg.Wait()
	}
	return nil
}

// close drops every socket and waits for the readers.
func (l *load) close() {
	for _, p := range l.peers {
		if p != nil {
			_ = p.ws.CloseNow()
		}
	}
	l.wg.Wait()
}

func (l *load) sortedLatencies() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return sortedCopy(l.latencies)
}

func (l *load) counters() string {
	return fmt.Sprintf("offers received %d, answers sent %d, answers received %d, failure replies %d, timeouts %d",
		l.offersIn.Load(), l.answersOut.Load(), l.answersIn.Load(), l.failures.Load(), l.timeouts.Load())
}

var errNoReplies = errors.New("no announce got a reply")

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomID() string {
	var b strings.Builder
	for range 20 {
		b.WriteByte(idChars[rand.IntN(len(idChars))])
	}
	return b.String()
}

// dummySDP is a plausible non-trickle data-channel SDP (about 500 bytes).
func dummySDP(kind, id string) string {
	return strings.Join([]string{"v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
		"a=group:BUNDLE 0", "a=extmap-allow-mixed", "a=msid-semantic: WMS",
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
		"a=candidate:1 1 udp 2113937151 192.0.2.10 52345 typ host generation 0 network-cost 999",
		"a=candidate:2 1 udp 1677729535 198.51.100.7 52345 typ srflx raddr 0.0.0.0 rport 0 generation 0",
		"a=ice-ufrag:" + id[8:12], "a=ice-pwd:bench" + id, "a=ice-options:trickle",
		"a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
		"a=setup:" + map[string]string{"offer": "actpass", "answer": "active"}[kind], "a=mid:0",
		"a=sctp-port:5000", "a=max-message-size:262144", ""}, "\r\n")
}
