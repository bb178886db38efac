package whep

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// watchState polls pc's connection state until stop is closed and
// records each state it saw.
func watchState(pc *webrtc.PeerConnection, stop <-chan struct{}) (seen func(webrtc.PeerConnectionState) bool, done <-chan struct{}) {
	var states [webrtc.PeerConnectionStateClosed + 1]atomic.Bool
	fin := make(chan struct{})
	go func() {
		defer close(fin)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if st := pc.ConnectionState(); int(st) < len(states) {
				states[st].Store(true)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func(st webrtc.PeerConnectionState) bool { return states[st].Load() }, fin
}

// cuttable gives a client SettingEngine option that puts its ICE on one
// UDP socket, and a function that closes that socket: from then on the
// client sends nothing, not even a DTLS close_notify when it closes.
func cuttable(t *testing.T) (func(*webrtc.SettingEngine), func()) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
	t.Cleanup(func() { _ = mux.Close() })
	return func(se *webrtc.SettingEngine) { se.SetICEUDPMux(mux) }, func() {
		if err := mux.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClientGoneWithoutDelete: a client that goes away without DELETE is
// ended by the server within a bounded time.
//
//   - "closed": the client closes its PeerConnection, which tells the
//     server over DTLS (close_notify); pion closes the server's side and
//     the session ends at once.
//   - "vanished": the client's socket is gone first (a crashed tab, a lost
//     network), so nothing more reaches the server: ICE notices the silence
//     (1 s here: disconnected) and the session ends DisconnectTimeout later,
//     long before ICE would call the connection failed (30 s here).
func TestClientGoneWithoutDelete(t *testing.T) {
	const disconnectTimeout = 300 * time.Millisecond
	for _, vanish := range []bool{false, true} {
		name := map[bool]string{false: "closed", true: "vanished"}[vanish]
		t.Run(name, func(t *testing.T) {
			o := envOpts{
				params: func(p *Params) { p.DisconnectTimeout = disconnectTimeout },
				serverSE: func(se *webrtc.SettingEngine) {
					se.SetICETimeouts(time.Second, 30*time.Second, 200*time.Millisecond)
				},
			}
			cut := func() {}
			if vanish {
				o.clientSE, cut = cuttable(t)
			}
			e := newEnv(t, o)
			c, rcv := e.dial(t, testStream)
			connected(t, c.PC)
			rcv.waitMedia(t, "media", 10)
			ss := e.session(t, c.Location)
			if n := e.srv.Sessions(); n != 1 {
				t.Fatalf("Sessions() = %d, want 1", n)
			}
			stop := make(chan struct{})
			seen, watched := watchState(ss.pc, stop)
			defer func() { close(stop); <-watched }()

			gone := time.Now()
			cut()
			if err := c.PC.Close(); err != nil {
				t.Fatal(err)
			}
			waitForWithin(t, 10*time.Second, "the server to end the session", func() bool { return e.srv.Sessions() == 0 })
			took := time.Since(gone)
			t.Logf("session ended %v after the client went", took)
			if vanish {
				if took < disconnectTimeout {
					t.Errorf("session ended %v after the client went, before DisconnectTimeout", took)
				}
				if !seen(webrtc.PeerConnectionStateDisconnected) {
					t.Error("the server's PeerConnection was never seen disconnected")
				}
				if seen(webrtc.PeerConnectionStateFailed) {
					t.Error("the session ended by ICE failure, not by DisconnectTimeout")
				}
			} else if took > 5*time.Second {
				t.Errorf("a closed client took %v to end its session", took)
			}
			released(t, e, ss)
			if got := metric(t, e.reg, "canopy_whep_sessions"); got != 0 {
				t.Errorf("open gauge = %v, want 0", got)
			}
		})
	}
}

// TestFailedConnectionEnds: a connection that ICE calls failed ends its
// session even when DisconnectTimeout is far away (an hour here): the
// client vanishes, and the server's ICE says disconnected after 300 ms and
// failed 700 ms later.
func TestFailedConnectionEnds(t *testing.T) {
	clientSE, cut := cuttable(t)
	e := newEnv(t, envOpts{
		params: func(p *Params) { p.DisconnectTimeout = time.Hour },
		serverSE: func(se *webrtc.SettingEngine) {
			se.SetICETimeouts(300*time.Millisecond, 700*time.Millisecond, 100*time.Millisecond)
		},
		clientSE: clientSE,
	})
	c, rcv := e.dial(t, testStream)
	connected(t, c.PC)
	rcv.waitMedia(t, "media", 5)
	ss := e.session(t, c.Location)
	cut()
	if err := c.PC.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server to end the failed session", func() bool { return e.srv.Sessions() == 0 })
	released(t, e, ss)
}

// released waits for an ended session's PeerConnection to be closed and
// its DownTracks detached: a session ended by a timer or a state change
// leaves Sessions() before it is released, on a goroutine of its own.
func released(t *testing.T, e *env, ss *session) {
	t.Helper()
	waitFor(t, "the session's PeerConnection closed and its viewers gone", func() bool {
		v, a := e.viewers()
		return ss.pc.ConnectionState() == webrtc.PeerConnectionStateClosed && v == 0 && a == 0
	})
}

// mutedConn drops what its client writes while muted: to the server the
// client has gone silent, though it still receives.
type mutedConn struct {
	net.PacketConn
	muted atomic.Bool
}

func (c *mutedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.muted.Load() {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

// TestBriefDisconnectKept: a client silent for less than DisconnectTimeout
// keeps its session: the server's PeerConnection goes disconnected, then
// connected again when the client is heard, which stops the idle timer.
func TestBriefDisconnectKept(t *testing.T) {
	const disconnectTimeout = 1500 * time.Millisecond
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	conn := &mutedConn{PacketConn: udp}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
	t.Cleanup(func() { _ = mux.Close() })
	e := newEnv(t, envOpts{
		params: func(p *Params) { p.DisconnectTimeout = disconnectTimeout },
		serverSE: func(se *webrtc.SettingEngine) {
			se.SetICETimeouts(500*time.Millisecond, 30*time.Second, 100*time.Millisecond)
		},
		clientSE: func(se *webrtc.SettingEngine) { se.SetICEUDPMux(mux) },
	})
	c, rcv := e.dial(t, testStream)
	connected(t, c.PC)
	rcv.waitMedia(t, "media", 5)
	ss := e.session(t, c.Location)

	conn.muted.Store(true)
	waitFor(t, "the server's PeerConnection disconnected", func() bool {
		return ss.pc.ConnectionState() == webrtc.PeerConnectionStateDisconnected
	})
	silent := time.Now()
	conn.muted.Store(false)
	waitFor(t, "the server's PeerConnection connected again", func() bool {
		return ss.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	// Watch the session past the DisconnectTimeout that the disconnection
	// started (a fixed window to observe, not synchronisation).
	time.Sleep(time.Until(silent.Add(disconnectTimeout + 500*time.Millisecond)))
	if n := e.srv.Sessions(); n != 1 {
		t.Fatalf("Sessions() = %d after a brief disconnection, want the session kept", n)
	}
	rcv.waitMedia(t, "media after the disconnection", 10)
}
