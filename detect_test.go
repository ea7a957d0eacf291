package keepalive

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
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
	bound := func(c Config) time.Duration { return boundOn(t, c, &linux) }
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
	assert.Equal(t, boundOf(t, on.Config), on.DetectionBound())
	assert.NotZero(t, on.DetectionBound())
}

func TestWithin(t *testing.T) {
	for d := 2 * time.Second; d <= 10*time.Minute; d += 997 * time.Millisecond {
		cfg, err := within(d, &linux)
		require.NoError(t, err, d)
		_, err = cfg.values(&linux)
		require.NoError(t, err, d)
		b := boundOn(t, cfg, &linux)
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

	for _, d := range []time.Duration{0, 1999 * time.Millisecond} {
		_, err := within(d, &linux)
		assert.ErrorIs(t, err, ErrOutOfRange, d)
		assert.EqualError(t, err, "keepalive: Idle+Interval*Count="+d.String()+" out of range for TCP_KEEPIDLE+TCP_KEEPINTVL*TCP_KEEPCNT on linux (2s..36h24m28s)")
		var re *RangeError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, RangeError{Field: "Idle+Interval*Count", Option: "TCP_KEEPIDLE+TCP_KEEPINTVL*TCP_KEEPCNT", OS: "linux", Value: int64(d), Min: int64(2 * time.Second), Max: int64(131068 * time.Second)}, *re)
	}
	_, err = within(-time.Second, &linux)
	assert.EqualError(t, err, "keepalive: Idle+Interval*Count=-1s is negative")
	assert.IsType(t, &RangeError{}, err)

	// Beyond the longest bound the limits allow, that bound.
	for _, d := range []time.Duration{131068 * time.Second, 100 * 24 * time.Hour, math.MaxInt64} {
		cfg, err := within(d, &linux)
		require.NoError(t, err, d)
		assert.Equal(t, Config{Idle: 32767 * time.Second, Interval: 32767 * time.Second, Count: 3, UserTimeout: 131068 * time.Second}, cfg, d)
	}
}

// Within stays inside every OS's limits, using as much of d as they allow.
func TestWithinPerOS(t *testing.T) {
	for _, p := range []*platform{&linux, &darwin, &freebsd, &dragonfly, &netbsd, &illumos, &solaris, &aix} {
		for _, d := range []time.Duration{2 * time.Second, 3 * time.Second, 30 * time.Second, 59 * time.Second, 10 * time.Minute, 19 * time.Hour, 100 * 24 * time.Hour} {
			cfg, err := within(d, p)
			if err != nil {
				assert.ErrorIs(t, err, ErrOutOfRange, "%s %v", p.goos, d)
				continue
			}
			_, err = cfg.values(p)
			require.NoError(t, err, "%s within(%v) = %+v", p.goos, d, cfg)
			b := boundOn(t, cfg, p)
			assert.LessOrEqual(t, b, d, "%s within(%v) = %+v", p.goos, d, cfg)
			assert.Positive(t, b)
		}
	}
	// Solaris probes at least 10s apart and idles at least 10s.
	_, err := within(19*time.Second, &solaris)
	assert.EqualError(t, err, "keepalive: Idle+Interval*Count=19s out of range for TCP_KEEPIDLE+TCP_KEEPINTVL*TCP_KEEPCNT on solaris (20s..596h31m23s)")
	for _, d := range []time.Duration{30 * time.Second, 59 * time.Second} {
		cfg, err := within(d, &solaris)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, cfg.Interval, 10*time.Second)
		assert.GreaterOrEqual(t, cfg.Idle, 10*time.Second)
	}
	// illumos caps the interval at 60s; Linux the idle time at 32767s.
	cfg, err := within(10*time.Minute, &illumos)
	require.NoError(t, err)
	assert.Equal(t, time.Minute, cfg.Interval)
	cfg, err = within(19*time.Hour, &linux)
	require.NoError(t, err)
	assert.Equal(t, 32767*time.Second, cfg.Idle)
	assert.Equal(t, boundOn(t, cfg, &linux), cfg.UserTimeout)
}

// An invalid Config has no bound: an error says why, and it cannot be
// mistaken for the 0 of a Config that leaves a timing to the socket.
func TestDetectionBoundOfInvalidConfig(t *testing.T) {
	for _, c := range []Config{
		{Idle: time.Hour, Interval: 1 << 61, Count: 5},
		{Idle: time.Second, Interval: time.Second, Count: 1000},
		{Idle: -time.Second, Interval: time.Second, Count: 3},
		{Count: -1},
	} {
		d, err := c.detectionBound(&linux)
		assert.Zero(t, d, "%+v", c)
		var re *RangeError
		require.ErrorAs(t, err, &re, "%+v", c)
		assert.ErrorIs(t, err, ErrOutOfRange)
		_, want := c.values(&linux)
		assert.Equal(t, want, err, "the error is validation's")
	}
	// Nothing to bound is no error.
	for _, c := range []Config{{}, {Idle: time.Second}, {Idle: time.Second, Interval: time.Second}} {
		d, err := c.detectionBound(&linux)
		assert.NoError(t, err, "%+v", c)
		assert.Zero(t, d, "%+v", c)
	}
}

// boundOn is c.detectionBound(p) for a c that must be valid there.
func boundOn(t testing.TB, c Config, p *platform) time.Duration {
	t.Helper()
	d, err := c.detectionBound(p)
	require.NoError(t, err, "%s: %+v", p.goos, c)
	return d
}

// boundOf is c.DetectionBound() for a c that must be valid.
func boundOf(t testing.TB, c Config) time.Duration {
	t.Helper()
	d, err := c.DetectionBound()
	require.NoError(t, err, "%+v", c)
	return d
}

// Where the OS fixes the probe count (Windows without TCP_KEEPCNT, as under
// Wine), the bound uses it, and Within leaves Count alone.
func TestFixedProbeCount(t *testing.T) {
	p := winsockSupport{}.platform()
	cfg := Config{Idle: time.Second, Interval: time.Second}
	assert.Equal(t, 11*time.Second, boundOn(t, cfg, &p))
	cfg.Count = 3
	assert.Equal(t, 11*time.Second, boundOn(t, cfg, &p), "Count cannot change a fixed count")

	got, err := within(time.Minute, &p)
	require.NoError(t, err)
	assert.Equal(t, Config{Idle: 30 * time.Second, Interval: 3 * time.Second}, got)
	assert.Equal(t, time.Minute, boundOn(t, got, &p))
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
	for _, op := range []string{"read", "write"} {
		err := &net.OpError{Op: op, Net: "tcp", Err: &os.SyscallError{Syscall: op, Err: syscall.ETIMEDOUT}}
		assert.True(t, IsDeadPeer(err), "an established connection that timed out: %v", err)
	}
	// A dial that never connected is no dead peer.
	err := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ETIMEDOUT}}
	assert.False(t, IsDeadPeer(err), "%v", err)
	assert.False(t, IsDeadPeer(fmt.Errorf("pool: %w", err)), "wrapped: %v", err)
	assert.False(t, IsDeadPeer(os.ErrDeadlineExceeded))
	assert.False(t, IsDeadPeer(io.ErrUnexpectedEOF))
	assert.False(t, IsDeadPeer(errors.New("connection timed out")))
}

// A bound never overflows: AIX accepts fields whose Idle+Interval*Count is
// beyond any Duration, and an OS that cannot set a timing per socket has no
// bound from the Config at all.
func TestDetectionBoundExtremes(t *testing.T) {
	largest := Config{Idle: math.MaxInt32 / 2 * time.Second, Interval: math.MaxInt32 / 2 * time.Second, Count: math.MaxInt32}
	assert.Equal(t, time.Duration(math.MaxInt64), boundOn(t, largest, &aix))
	assert.Equal(t, time.Duration(math.MaxInt64), boundOn(t, Config{Idle: time.Second, Interval: math.MaxInt32 / 2 * time.Second, Count: 9}, &aix))
	for _, p := range []*platform{&openbsd, &dragonflyLegacy, {goos: "js", noKeepalive: true}} {
		for _, c := range []Config{
			{Idle: time.Second, Interval: time.Second, Count: 2},
			{Idle: math.MaxInt64, Interval: math.MaxInt64, Count: math.MaxInt32},
		} {
			assert.Zero(t, boundOn(t, c, p), "%s: %+v", p.goos, c)
		}
	}
	// Every table's largest valid fields give a positive bound.
	for _, p := range []*platform{&linux, &darwin, &freebsd, &dragonfly, &netbsd, &illumos, &solaris, &aix} {
		k := &p.knobs
		c := Config{Idle: time.Duration(k[idle].max/2) * k[idle].unit, Interval: 10 * time.Second, Count: k[count].max}
		for _, err := c.values(p); err != nil && c.Count > 1; _, err = c.values(p) {
			c.Count /= 2
		}
		assert.Positive(t, boundOn(t, c, p), "%s: %+v", p.goos, c)
	}
}

// Within's error on Solaris before 11.4 names the two options that hold
// Idle+Interval*Count, not a probe count of 0.
func TestWithinSolarisLegacyError(t *testing.T) {
	_, err := within(time.Second, &solarisLegacy)
	assert.EqualError(t, err, "keepalive: Idle+Interval*Count=1s out of range for TCP_KEEPALIVE_THRESHOLD+TCP_KEEPALIVE_ABORT_THRESHOLD on solaris (10.001s..596h31m23.647s)")
	cfg, err := within(time.Hour, &solarisLegacy)
	require.NoError(t, err)
	assert.Equal(t, time.Hour, boundOn(t, cfg, &solarisLegacy))
}

// Within's doc: no timing per socket, an error matching ErrUnsupported.
func TestWithinNoTimings(t *testing.T) {
	for _, p := range []*platform{&openbsd, &dragonflyLegacy, {goos: "plan9", noKeepalive: true}} {
		cfg, err := within(time.Minute, p)
		assert.ErrorIs(t, err, ErrUnsupported, p.goos)
		assert.Zero(t, cfg, p.goos)
	}
}
