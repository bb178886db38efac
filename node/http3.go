package node

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// altSvcMaxAge is how long (seconds) a client may remember the Alt-Svc.
const altSvcMaxAge = 86400

// HTTP3Params configures ServeHTTP3.
type HTTP3Params struct {
	// Addr is the UDP address, normally the same port number as the node's
	// TCP HTTP address (":8080"); "127.0.0.1:0" picks a free port.
	Addr    string
	Handler http.Handler // required, for example Node.Handler()
	// DataDir keeps the self-signed certificate (http3-cert.pem and
	// http3-key.pem), made on first start. Empty: a new one every start.
	DataDir string
	// Hosts are extra DNS names or IP addresses the certificate names
	// (localhost, 127.0.0.1 and ::1 always are).
	Hosts  []string
	Logger *slog.Logger
	Now    func() time.Time
}

// HTTP3Server serves a handler over HTTP/3 (QUIC) with a self-signed
// certificate.
//
// Volunteers have no domain name and no certificate from a CA, so browsers
// do not trust this certificate and will not switch to HTTP/3 even when
// told through Alt-Svc; they keep using HTTP/1.1 or h2 over TCP. HTTP/3 is
// for clients that pin the certificate or skip verification: other nodes,
// loadgen, and curl (curl --http3 -k, or --pinnedpubkey with PinnedPubKey).
type HTTP3Server struct {
	srv  *http3.Server
	conn net.PacketConn
	cert *x509.Certificate
	log  *slog.Logger

	done      chan struct{} // closed when Serve has returned
	stop      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
}

// ServeHTTP3 loads or makes the certificate, binds the UDP address and
// serves p.Handler until Close is called or ctx is cancelled.
func ServeHTTP3(ctx context.Context, p HTTP3Params) (*HTTP3Server, error) {
	if p.Handler == nil {
		return nil, fmt.Errorf("%w: no handler", ErrHTTP3)
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	log := p.Logger.With("component", "http3")
	cert, err := loadOrCreateCert(p.DataDir, p.Hosts, p.Now(), log)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenPacket("udp", p.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: listen %s: %w", ErrHTTP3, p.Addr, err)
	}
	s := &HTTP3Server{
		srv: &http3.Server{
			Handler:   p.Handler,
			TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}),
			Logger:    log,
		},
		conn: conn, cert: cert.Leaf, log: log,
		done: make(chan struct{}), stop: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(conn); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			log.Warn("HTTP/3 server stopped", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.stop:
		}
	}()
	log.Info("serving HTTP/3", "addr", conn.LocalAddr().String(), "pinned_pubkey", s.PinnedPubKey())
	return s, nil
}

// Addr is the UDP address being served.
func (s *HTTP3Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Port is the UDP port being served, for AltSvc.
func (s *HTTP3Server) Port() int {
	if a, ok := s.conn.LocalAddr().(*net.UDPAddr); ok {
		return a.Port
	}
	return 0
}

// Certificate is the server's self-signed certificate, for clients that
// pin it (add it to tls.Config.RootCAs).
func (s *HTTP3Server) Certificate() *x509.Certificate { return s.cert }

// PinnedPubKey is the certificate's public key hash in curl's
// --pinnedpubkey form: "sha256//" and the base64 SHA-256 of its SPKI.
func (s *HTTP3Server) PinnedPubKey() string {
	sum := sha256.Sum256(s.cert.RawSubjectPublicKeyInfo)
	return "sha256//" + base64.StdEncoding.EncodeToString(sum[:])
}

// Close stops serving, aborts open requests and waits for the server.
func (s *HTTP3Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		err := s.srv.Close()
		if cerr := s.conn.Close(); err == nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
		<-s.done
		if err != nil {
			s.closeErr = fmt.Errorf("%w: close: %w", ErrHTTP3, err)
		}
	})
	return s.closeErr
}

// AltSvc wraps h so that HTTP/1.1 and h2 responses announce HTTP/3 on
// udpPort of the same host: `Alt-Svc: h3=":PORT"; ma=86400`. HTTP/3
// responses are passed through unchanged. (Browsers act on it only when
// they trust the HTTP/3 certificate; see HTTP3Server.)
func AltSvc(h http.Handler, udpPort int) http.Handler {
	v := fmt.Sprintf(`h3=":%d"; ma=%d`, udpPort, altSvcMaxAge)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor < 3 {
			w.Header().Set("Alt-Svc", v)
		}
		h.ServeHTTP(w, r)
	})
}
