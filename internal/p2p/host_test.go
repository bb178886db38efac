package p2p

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestIdentityPersistsAndHostsConnect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "id", "node.key")
	a, err := NewHost(HostParams{IdentityFile: path})
	if err != nil {
		t.Fatal(err)
	}
	id := a.ID()
	a.Close()
	a, err = NewHost(HostParams{IdentityFile: path})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.ID() != id {
		t.Fatalf("identity changed across restarts: %s then %s", id, a.ID())
	}
	b, err := NewHost(HostParams{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()}); err != nil {
		t.Fatal(err)
	}
	if len(b.Network().ConnsToPeer(a.ID())) == 0 {
		t.Fatal("no connection")
	}
}
