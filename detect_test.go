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

// The arithmetic is checked with Linux's table on every OS; the State
// methods go through this OS's own.
func TestDetectionBound(t *testing.T) {
	bound := func(c Config) time.Duration { return c.detectionBound(&linux) }
	assert.Equal(t, 3*time.Second, bound(Config{Idle: time.Second, Interval: time.Second, Count: 2}))
	// Rounded up as Apply rounds: 1.5s idle is 2s, 10ms interval is 1s.
	assert.Equal(t, 5*time.Second, bound(Config{Idle: 1500 * time.Millisecond, Interval: 10 * time.Millisecond, Count: 3}))
	assert.Zero(t, bound(Config{Idle: time.Second, Count: 2}))
	// On Linux a user timeout replaces the count for idle connections.
	ut := bound
	assert.Equal(t, 2*time.Second, ut(Config{Idle: time.Second, Interval: time.Second, Count: 5, UserTimeout: 2 * time.Second}))
	assert.Equal(t, 2*time.Second, ut(Config{Idle: time.Second, Interval: time.Second, Count: 5, UserTimeout: time.Millisecond}))
	assert.Equal(t, 4*time.Second, ut(Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 3500 * time.Millisecond}))
	assert.Equal(t, 6*time.Second, ut(Config{Idle: 2 * time.Second, Interval: 2 * time.Second, Count: 2, UserTimeout: 6 * time.Second}))
	assert.Zero(t, State{Enabled: false, Config: Config{Idle: time.Second, Interval: time.Second, Count: 2}}.DetectionBound())
	on := State{Enabled: true, Config: Config{Idle: time.Second, Interval: time.Second, Count: 2}}
	assert.Equal(t, on.Config.DetectionBound(), on.DetectionBound())
	assert.NotZero(t, on.DetectionBound())
}

func TestWithin(t *testing.T) {
	for d := 2 * time.Second; d <= 10*time.Minute; d += 997 * time.Millisecond {
		cfg, err := within(d, &linux)
		require.NoError(t, err, d)
		_, err = cfg.values(&linux)
		require.NoError(t, err, d)
		b := cfg.detectionBound(&linux)
		assert.LessOrEqual(t, b, d, "bound of within(%v) = %+v", d, cfg)
		assert.Greater(t, b, d-time.Second, "within(%v) = %+v wastes time", d, cfg)
		assert.Equal(t, b, cfg.UserTimeout, "UserTimeout = Idle + Interval*Count")
		assert.GreaterOrEqual(t, cfg.Idle, cfg.Interval*time.Duration(cfg.Count)-time.Duration(cfg.Count)*time.Second, "within(%v) = %+v", d, cfg)
	}
	cfg, err := within(time.Minute, &linux)
	require.NoError(t, err)
	assert.Equal(t, Config{Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: time.Minute}, cfg)
	cfg, err = within(3*time.Second, &linux)
	require.NoError(t, err)
	assert.Equal(t, Config{Idle: time.Second, Interval: time.Second, Count: 2, UserTimeout: 3 * time.Second}, cfg)

	for _, d := range []time.Duration{-time.Second, 0, 1999 * time.Millisecond, 100 * 24 * time.Hour} {
		_, err := within(d, &linux)
		assert.ErrorIs(t, err, ErrOutOfRange, d)
	}
}

// Where the OS fixes the probe count (Windows without TCP_KEEPCNT, as under
// Wine), the bound uses it, and Within leaves Count alone.
func TestFixedProbeCount(t *testing.T) {
	p := winsockSupport{}.platform()
	cfg := Config{Idle: time.Second, Interval: time.Second}
	assert.Equal(t, 11*time.Second, cfg.detectionBound(&p))
	cfg.Count = 3
	assert.Equal(t, 11*time.Second, cfg.detectionBound(&p), "Count cannot change a fixed count")

	got, err := within(time.Minute, &p)
	require.NoError(t, err)
	assert.Equal(t, Config{Idle: 30 * time.Second, Interval: 3 * time.Second}, got)
	assert.Equal(t, time.Minute, got.detectionBound(&p))
	_, err = within(10*time.Second, &p)
	assert.ErrorIs(t, err, ErrOutOfRange, "1s idle + 10 probes needs 11s")

	// OpenBSD sets no timing per socket at all.
	_, err = within(time.Minute, &openbsd)
	assert.ErrorIs(t, err, ErrUnsupported)
}

func TestIsDeadPeer(t *testing.T) {
	assert.False(t, IsDeadPeer(nil))
	assert.True(t, IsDeadPeer(syscall.ETIMEDOUT))
	assert.True(t, IsDeadPeer(&os.SyscallError{Syscall: "read", Err: syscall.ETIMEDOUT}))
	assert.False(t, IsDeadPeer(os.ErrDeadlineExceeded))
	assert.False(t, IsDeadPeer(io.ErrUnexpectedEOF))
	assert.False(t, IsDeadPeer(errors.New("connection timed out")))
}
