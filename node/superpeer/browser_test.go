package superpeer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
)

// testBrowser plays a p2p-media-loader browser peer in one swarm: it
// announces with offers through the tracker, answers relayed offers, and
// speaks the peer protocol over the data channel it gets.
type testBrowser struct {
	t        *testing.T
	api      *webrtc.API
	peerID   string
	infoHash string
	ws       *websocket.Conn
	ctx      context.Context
	cancel   context.CancelFunc
	onMsg    func([]byte) // optional hook run in the data channel callback

	mu       sync.Mutex
	pcs      []*webrtc.PeerConnection
	pending  map[string]*webrtc.PeerConnection // own offers by offer id
	offerDCs map[string]*webrtc.DataChannel    // their data channels
	conns    chan *browserConn
	wg       sync.WaitGroup
}

// browserConn is an open data channel to a remote peer.
type browserConn struct {
	remote string
	dc     *webrtc.DataChannel
	msgs   chan []byte
	closed chan struct{}
	join   joiner
}

func newTestBrowser(t *testing.T, trackerURL, infoHash string) *testBrowser {
	t.Helper()
	var se webrtc.SettingEngine
	LoopbackSettings(&se)
	tail, err := randomString(rand.Reader, 12)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &testBrowser{
		t: t, api: webrtc.NewAPI(webrtc.WithSettingEngine(se)),
		peerID: "-PM0203-" + tail, infoHash: infoHash, ctx: ctx, cancel: cancel,
		pending: map[string]*webrtc.PeerConnection{}, offerDCs: map[string]*webrtc.DataChannel{},
		conns: make(chan *browserConn, 8),
	}
	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	defer dcancel()
	ws, _, err := websocket.Dial(dctx, trackerURL, nil)
	if err != nil {
		t.Fatalf("browser: dial tracker: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	b.ws = ws
	t.Cleanup(b.close)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.readLoop()
	}()
	return b
}

func (b *testBrowser) close() {
	b.cancel()
	_ = b.ws.CloseNow()
	b.wg.Wait()
	b.mu.Lock()
	pcs := b.pcs
	b.pcs = nil
	b.mu.Unlock()
	for _, pc := range pcs {
		_ = pc.GracefulClose()
	}
}

func (b *testBrowser) send(v any) {
	b.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if err := b.ws.Write(ctx, websocket.MessageText, data); err != nil && b.ctx.Err() == nil {
		// A write racing close() (the read loop answering an offer while
		// the test closes this browser) is expected; any other is not.
		b.t.Errorf("browser: write tracker: %v", err)
	}
}

// newPC makes a peer connection that reports its open data channel.
func (b *testBrowser) newPC() *webrtc.PeerConnection {
	b.t.Helper()
	pc, err := b.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		b.t.Fatal(err)
	}
	b.mu.Lock()
	b.pcs = append(b.pcs, pc)
	b.mu.Unlock()
	return pc
}

func (b *testBrowser) adopt(remote string, dc *webrtc.DataChannel) {
	c := &browserConn{remote: remote, dc: dc, msgs: make(chan []byte, 4096), closed: make(chan struct{})}
	var once sync.Once
	dc.OnOpen(func() { b.conns <- c })
	dc.OnClose(func() { once.Do(func() { close(c.closed) }) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if b.onMsg != nil {
			b.onMsg(m.Data)
		}
		select {
		case c.msgs <- m.Data:
		default:
			b.t.Errorf("browser: message buffer full")
		}
	})
}

// gathered returns the complete local description.
func (b *testBrowser) gathered(pc *webrtc.PeerConnection, d webrtc.SessionDescription) webrtc.SessionDescription {
	b.t.Helper()
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		b.t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		b.t.Fatal("browser: ICE gathering timed out")
	}
	return *pc.LocalDescription()
}

// announce sends an announce with n fresh offers (0: join without offers).
func (b *testBrowser) announce(event string, n int) {
	b.t.Helper()
	offers := []map[string]any{}
	for range n {
		pc := b.newPC()
		dc, err := pc.CreateDataChannel("0123456789abcdef0123456789abcdef01234567", nil)
		if err != nil {
			b.t.Fatal(err)
		}
		offer, err := pc.CreateOffer(nil)
		if err != nil {
			b.t.Fatal(err)
		}
		local := b.gathered(pc, offer)
		id, _ := randomString(rand.Reader, 20)
		b.mu.Lock()
		b.pending[id], b.offerDCs[id] = pc, dc
		b.mu.Unlock()
		offers = append(offers, map[string]any{"offer": local, "offer_id": id})
	}
	msg := map[string]any{"action": "announce", "info_hash": b.infoHash, "peer_id": b.peerID,
		"numwant": n, "uploaded": 0, "downloaded": 0, "offers": offers}
	if event != "" {
		msg["event"] = event
	}
	b.send(msg)
}

func (b *testBrowser) readLoop() {
	for {
		_, data, err := b.ws.Read(b.ctx)
		if err != nil {
			return
		}
		var m struct {
			InfoHash string                     `json:"info_hash"`
			PeerID   string                     `json:"peer_id"`
			OfferID  string                     `json:"offer_id"`
			Offer    *webrtc.SessionDescription `json:"offer"`
			Answer   *webrtc.SessionDescription `json:"answer"`
		}
		if json.Unmarshal(data, &m) != nil || m.InfoHash != b.infoHash || m.PeerID == b.peerID {
			continue
		}
		switch {
		case m.Offer != nil:
			pc := b.newPC()
			from := m.PeerID
			pc.OnDataChannel(func(dc *webrtc.DataChannel) { b.adopt(from, dc) })
			if err := pc.SetRemoteDescription(*m.Offer); err != nil {
				b.t.Errorf("browser: remote offer: %v", err)
				continue
			}
			answer, err := pc.CreateAnswer(nil)
			if err != nil {
				b.t.Errorf("browser: answer: %v", err)
				continue
			}
			local := b.gathered(pc, answer)
			b.send(map[string]any{"action": "announce", "info_hash": b.infoHash, "peer_id": b.peerID,
				"to_peer_id": m.PeerID, "answer": local, "offer_id": m.OfferID})
		case m.Answer != nil:
			b.mu.Lock()
			pc, dc := b.pending[m.OfferID], b.offerDCs[m.OfferID]
			delete(b.pending, m.OfferID)
			b.mu.Unlock()
			if pc == nil {
				continue
			}
			b.adopt(m.PeerID, dc)
			if err := pc.SetRemoteDescription(*m.Answer); err != nil {
				b.t.Errorf("browser: remote answer: %v", err)
			}
		}
	}
}

// waitConn returns the next open data channel.
func (b *testBrowser) waitConn(timeout time.Duration) *browserConn {
	b.t.Helper()
	select {
	case c := <-b.conns:
		return c
	case <-time.After(timeout):
		b.t.Fatal("browser: no peer connection")
		return nil
	}
}

// sendCommand writes a command the way p2p-media-loader does.
func (c *browserConn) sendCommand(t *testing.T, cmd command) {
	t.Helper()
	body, err := encodeCommand(cmd)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frameCommand(body, maxMessage) {
		if err := c.dc.Send(f); err != nil {
			t.Fatal(err)
		}
	}
}

// next returns the next command or raw chunk (cmd nil) from the peer.
func (c *browserConn) next(t *testing.T, timeout time.Duration) (*command, []byte) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m := <-c.msgs:
			if !isCommandMessage(m) {
				return nil, m
			}
			body, err := c.join.add(m)
			if err != nil {
				t.Fatalf("browser: bad command frame: %v", err)
			}
			if body == nil {
				continue
			}
			cmd, err := decodeCommand(body)
			if err != nil {
				t.Fatalf("browser: bad command: %v", err)
			}
			return &cmd, nil
		case <-deadline:
			t.Fatal("browser: timed out waiting for a message")
			return nil, nil
		}
	}
}

// nextCommand skips announcements unless want is cmdAnnouncement.
func (c *browserConn) nextCommand(t *testing.T, want cmdType, timeout time.Duration) command {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		cmd, raw := c.next(t, time.Until(deadline))
		switch {
		case cmd == nil:
			t.Fatalf("browser: unexpected %d raw bytes while waiting for command %d", len(raw), want)
		case cmd.typ == want:
			return *cmd
		case cmd.typ != cmdAnnouncement:
			t.Fatalf("browser: got command %d, want %d", cmd.typ, want)
		}
	}
}

// download requests a segment and collects it as p2p-media-loader would,
// checking the byte count; it returns the bytes and the raw chunk sizes.
func (c *browserConn) download(t *testing.T, id, req, from int64) ([]byte, []int) {
	t.Helper()
	c.sendCommand(t, command{typ: cmdRequest, id: id, req: req, from: from})
	data := c.nextCommand(t, cmdData, 10*time.Second)
	if data.id != id || data.req != req {
		t.Fatalf("browser: SegmentData for %d/%d, want %d/%d", data.id, data.req, id, req)
	}
	var got bytes.Buffer
	var chunks []int
	for {
		cmd, raw := c.next(t, 10*time.Second)
		if cmd == nil {
			got.Write(raw)
			chunks = append(chunks, len(raw))
			if int64(got.Len()) > data.size {
				t.Fatalf("browser: %d bytes, more than announced %d", got.Len(), data.size)
			}
			continue
		}
		if cmd.typ == cmdAnnouncement {
			continue
		}
		if cmd.typ != cmdCompleted || cmd.id != id || cmd.req != req {
			t.Fatalf("browser: got command %+v during download", *cmd)
		}
		if int64(got.Len()) != data.size {
			t.Fatalf("browser: %d bytes, announced %d", got.Len(), data.size)
		}
		return got.Bytes(), chunks
	}
}
