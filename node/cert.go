package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The HTTP/3 certificate's files in DataDir and its lifetime.
const (
	certFile     = "http3-cert.pem"
	keyFile      = "http3-key.pem"
	certValidity = 365 * 24 * time.Hour
	certRenew    = 7 * 24 * time.Hour // replaced when it expires sooner than this
)

// loadOrCreateCert returns the self-signed certificate kept in dir, making
// (and saving) a new one when there is none, it does not parse, it is about
// to expire, or it does not cover hosts. Without dir the certificate lives
// only in memory.
func loadOrCreateCert(dir string, hosts []string, now time.Time, log *slog.Logger) (tls.Certificate, error) {
	names := append([]string{"localhost", "127.0.0.1", "::1"}, hosts...)
	if dir != "" {
		c, err := tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
		switch {
		case err == nil && certUsable(c.Leaf, names, now):
			return c, nil
		case err == nil:
			log.Info("replacing HTTP/3 certificate: expiring or missing a host name")
		case !errors.Is(err, fs.ErrNotExist):
			log.Warn("replacing unreadable HTTP/3 certificate", "err", err)
		}
	}
	certPEM, keyPEM, err := newSelfSigned(names, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	if dir != "" {
		if err := writeFileAtomic(filepath.Join(dir, keyFile), keyPEM, 0o600); err != nil {
			return tls.Certificate{}, err
		}
		if err := writeFileAtomic(filepath.Join(dir, certFile), certPEM, 0o644); err != nil {
			return tls.Certificate{}, err
		}
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %w", ErrCert, err)
	}
	return c, nil
}

func certUsable(leaf *x509.Certificate, names []string, now time.Time) bool {
	if leaf == nil || now.Before(leaf.NotBefore) || now.Add(certRenew).After(leaf.NotAfter) {
		return false
	}
	for _, n := range names {
		if leaf.VerifyHostname(n) != nil {
			return false
		}
	}
	return true
}

// newSelfSigned makes an ECDSA P-256 certificate for names (DNS names or
// IP addresses), signed by its own key, in PEM.
func newSelfSigned(names []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCert, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCert, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "canopy relay node"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if n != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCert, err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCert, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// writeFileAtomic writes through a temporary file and a rename, so a crash
// never leaves half a key behind.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%w: %w", ErrCert, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCert, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCert, err)
	}
	return nil
}
