package comments

import (
	"context"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The kill -9 test re-executes this binary as the writer it kills.
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(helperWriter(dir))
	}
	goleak.VerifyTestMain(m)
}

// testTS is a fixed base time for tests.
var testBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a settable wall clock.
type fakeClock struct{ t time.Time }

func (f *fakeClock) Now() time.Time          { return f.t }
func (f *fakeClock) Advance(d time.Duration) { f.t = f.t.Add(d) }

// mk returns a valid comment with a nonce derived from seq.
func mk(stream, author, text string, wallMS int64, logical uint32, seq uint64) Comment {
	var n [NonceSize]byte
	binary.BigEndian.PutUint64(n[:], seq)
	return NewComment(stream, author, text, Timestamp{WallMS: wallMS, Logical: logical}, n)
}

// testCtx returns a context that ends with the test or after d.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// openTest opens and starts a store in dir, closed at cleanup.
func openTest(t *testing.T, p StoreParams) *Store {
	t.Helper()
	if p.Dir == "" {
		p.Dir = t.TempDir()
	}
	s, err := Open(p)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.Start(ctx)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		cancel()
	})
	return s
}
