package p2p

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
)

// HostParams configures a host.
type HostParams struct {
	// IdentityFile holds the host's private key; it is created on first use.
	// Empty means a fresh identity every start (tests).
	IdentityFile string
	// Listen are multiaddrs, e.g. /ip4/0.0.0.0/tcp/4001 and
	// /ip4/0.0.0.0/udp/4001/quic-v1. Default: loopback on random ports.
	Listen []string
	// NAT switches on what a volunteer behind a home router needs: UPnP/NAT-PMP
	// port mapping, AutoNAT, hole punching and the circuit relay v2 client.
	// Off in tests and on loopback: port mapping probes the local network.
	NAT bool
}

// NewHost starts a libp2p host.
func NewHost(p HostParams) (host.Host, error) {
	priv, err := identity(p.IdentityFile)
	if err != nil {
		return nil, err
	}
	listen := p.Listen
	if len(listen) == 0 {
		listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	}
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.ListenAddrStrings(listen...),
		libp2p.DefaultTransports,
		libp2p.DefaultMuxers,
		libp2p.DefaultSecurity,
	}
	if p.NAT {
		opts = append(opts, libp2p.NATPortMap(), libp2p.EnableNATService(), libp2p.EnableHolePunching(), libp2p.EnableRelay())
	} else {
		opts = append(opts, libp2p.DisableRelay())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("libp2p host: %w", err)
	}
	return h, nil
}

// identity loads or creates the Ed25519 key in path.
func identity(path string) (crypto.PrivKey, error) {
	if path == "" {
		priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
		return priv, err
	}
	data, err := os.ReadFile(path)
	if err == nil {
		priv, err := crypto.UnmarshalPrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("identity %s: %w", path, err)
		}
		return priv, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("identity: %w", err)
	}
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	data, err = crypto.MarshalPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	return priv, nil
}
