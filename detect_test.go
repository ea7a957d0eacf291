package keepalive

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDetectionBound(t *testing.T) {
	assert.Equal(t, 3*time.Second, Config{Idle: time.Second, Interval: time.Second, Count: 2}.DetectionBound())
	// Rounded up as Apply rounds: 1.5s idle is 2s, 10ms interval is 1s.
	assert.Equal(t, 5*time.Second, Config{Idle: 1500 * time.Millisecond, Interval: 10 * time.Millisecond, Count: 3}.DetectionBound())
	assert.Zero(t, Config{Idle: time.Second, Count: 2}.DetectionBound())
	// On Linux a user timeout replaces the count for idle connections.
	ut := func(c Config) time.Duration { return c.detectionBound(&linux) }
	assert.Equal(t, 2*time.Second, ut(Config{Idle: time.Second, Interval: time.Second, Count: 5, UserTimeout: 2 * time.Second}))
	assert.Equal(t, 2*time.Second, ut(Config{Idle: time.Second, Interval: time.Second, Count: 5, UserTimeout: time.Millisecond}))
	assert.Equal(t, 4*time.Second, ut(Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 3500 * time.Millisecond}))
	assert.Equal(t, 6*time.Second, ut(Config{Idle: 2 * time.Second, Interval: 2 * time.Second, Count: 2, UserTimeout: 6 * time.Second}))
	assert.Zero(t, State{Enabled: false, Config: Config{Idle: time.Second, Interval: time.Second, Count: 2}}.DetectionBound())
	assert.Equal(t, 3*time.Second, State{Enabled: true, Config: Config{Idle: time.Second, Interval: time.Second, Count: 2}}.DetectionBound())
}

func TestWithin(t *testing.T) {
	for d := 2 * time.Second; d <= 10*time.Minute; d += 997 * time.Millisecond {
		cfg, err := Within(d)
		require.NoError(t, err, d)
		require.NoError(t, cfg.Validate(), d)
		b := cfg.DetectionBound()
		assert.LessOrEqual(t, b, d, "bound of Within(%v) = %+v", d, cfg)
		assert.Greater(t, b, d-time.Second, "Within(%v) = %+v wastes time", d, cfg)
		assert.Equal(t, b, cfg.UserTimeout, "UserTimeout = Idle + Interval*Count")
		assert.GreaterOrEqual(t, cfg.Idle, cfg.Interval*time.Duration(cfg.Count)-time.Duration(cfg.Count)*time.Second, "Within(%v) = %+v", d, cfg)
	}
	cfg, err := Within(time.Minute)
	require.NoError(t, err)
	assert.Equal(t, Config{Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: time.Minute}, cfg)
	cfg, err = Within(3 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 3 * time.Second}, cfg)

	for _, d := range []time.Duration{-time.Second, 0, 1999 * time.Millisecond, 100 * 24 * time.Hour} {
		_, err := Within(d)
		assert.ErrorIs(t, err, ErrOutOfRange, d)
	}
}

func TestIsDeadPeer(t *testing.T) {
	assert.False(t, IsDeadPeer(nil))
	assert.True(t, IsDeadPeer(syscall.ETIMEDOUT))
	assert.True(t, IsDeadPeer(&os.SyscallError{Syscall: "read", Err: syscall.ETIMEDOUT}))
	assert.False(t, IsDeadPeer(os.ErrDeadlineExceeded))
	assert.False(t, IsDeadPeer(io.ErrUnexpectedEOF))
	assert.False(t, IsDeadPeer(errors.New("connection timed out")))
}
