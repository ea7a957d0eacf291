package heartbeat

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine started by a test outlives it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
