package whep

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// test closes its clients, its Server and its tracks.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
