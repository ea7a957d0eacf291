//go:build linux

package keepalive

import (
	"errors"
	"math"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fuzz targets for every function that takes values from outside: Config
// (Validate, Apply, Get), Within, DetectionBound and FromKeepAliveConfig.
// Each input is also checked against a real loopback socket where the
// function touches one, and against Go's own SetKeepAliveConfig where it
// converts Go's type. .ci/run runs each for a bounded time; `go test` runs
// the seeds below.

// fuzzSeeds are Config values at and around the edges of Linux's limits
// and of int64 nanoseconds.
func fuzzSeeds() [][4]int64 {
	s, ms := int64(time.Second), int64(time.Millisecond)
	return [][4]int64{
		{0, 0, 0, 0},
		{s, s, 1, ms},
		{1, 1, 1, 1},
		{1500 * ms, 2500 * ms, 3, 1500 * ms},
		{32767 * s, 32767 * s, 127, math.MaxInt32 * ms},
		{32767*s + 1, 0, 0, 0},
		{0, 32768 * s, 0, 0},
		{0, 0, 128, 0},
		{0, 0, 0, math.MaxInt32*ms + 1},
		{-1, 0, 0, 0},
		{0, -s, -1, -ms},
		{math.MaxInt64, math.MaxInt64, math.MaxInt32, math.MaxInt64},
		{math.MinInt64, math.MinInt64, math.MinInt32, math.MinInt64},
		{s, s, math.MaxInt32, 0},
		{s, 60 * s, 71583, 0}, // a product that overflows uint32 milliseconds
	}
}

// roundedTo is d as the OS holds it for k: rounded up to k's unit.
func roundedTo(k knob, d int64) int64 {
	o := &native.knobs[k]
	return fromUnit(int(roundUp(d, o.unit)), o.unit)
}

func FuzzConfig(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s[0], s[1], int(s[2]), s[3])
	}
	f.Fuzz(func(t *testing.T, idleNS, intervalNS int64, count int, userTimeoutNS int64) {
		cfg := Config{Idle: time.Duration(idleNS), Interval: time.Duration(intervalNS), Count: count, UserTimeout: time.Duration(userTimeoutNS)}
		c, _ := pair(t)
		before, err := Get(c)
		require.NoError(t, err)
		require.False(t, before.Enabled)

		verr := cfg.Validate()
		aerr := cfg.Apply(c)
		after, err := Get(c)
		require.NoError(t, err)
		if verr != nil {
			// A typed error, the same from Apply, and the socket untouched.
			var re *RangeError
			require.ErrorAs(t, verr, &re, "Validate(%+v)", cfg)
			require.ErrorIs(t, verr, ErrOutOfRange)
			assert.NotEmpty(t, re.Field)
			assert.NotEmpty(t, re.Error())
			require.ErrorIs(t, aerr, ErrOutOfRange, "Apply of an invalid %+v", cfg)
			assert.Equal(t, before, after, "an invalid %+v changed the socket", cfg)
			return
		}
		require.NoError(t, aerr, "Apply of a valid %+v", cfg)
		want := before
		want.Enabled = true
		fields := [numKnobs]int64{idleNS, intervalNS, int64(count), userTimeoutNS}
		for k, x := range fields {
			if x != 0 {
				want.Config.setField(knob(k), roundedTo(knob(k), x))
			}
		}
		assert.Equal(t, want, after, "Get after Apply(%+v)", cfg)
	})
}

func FuzzWithin(f *testing.F) {
	for _, d := range []int64{0, 1, int64(time.Second), int64(3 * time.Second), int64(time.Minute), int64(time.Hour),
		int64(time.Hour * 24 * 30), math.MaxInt64, -1, math.MinInt64} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d int64) {
		cfg, err := Within(time.Duration(d))
		if err != nil {
			var re *RangeError
			if !errors.Is(err, ErrUnsupported) {
				assert.ErrorAs(t, err, &re, "Within(%v)", time.Duration(d))
			}
			assert.Equal(t, Config{}, cfg)
			return
		}
		require.NoError(t, cfg.Validate(), "Within(%v) = %+v", time.Duration(d), cfg)
		bound, err := cfg.DetectionBound()
		require.NoError(t, err)
		assert.Positive(t, bound, "Within(%v) = %+v", time.Duration(d), cfg)
		assert.LessOrEqual(t, bound, time.Duration(d), "Within(%v) = %+v", time.Duration(d), cfg)
		// The kernel holds exactly that: Within's values need no rounding.
		c, _ := pair(t)
		require.NoError(t, cfg.Apply(c))
		s, err := Get(c)
		require.NoError(t, err)
		assert.Equal(t, State{Enabled: true, Config: cfg}, s)
	})
}

func FuzzDetectionBound(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s[0], s[1], int(s[2]), s[3])
	}
	f.Fuzz(func(t *testing.T, idleNS, intervalNS int64, count int, userTimeoutNS int64) {
		cfg := Config{Idle: time.Duration(idleNS), Interval: time.Duration(intervalNS), Count: count, UserTimeout: time.Duration(userTimeoutNS)}
		bound, err := cfg.DetectionBound()
		if verr := cfg.Validate(); verr != nil {
			assert.Equal(t, verr, err, "DetectionBound of the invalid %+v", cfg)
			assert.Zero(t, bound, "a bound for the invalid %+v", cfg)
			return
		}
		require.NoError(t, err, "DetectionBound of the valid %+v", cfg)
		if idleNS == 0 || intervalNS == 0 || count == 0 {
			assert.Zero(t, bound, "the socket's own value counts for a zero field: %+v", cfg)
			return
		}
		i, n := time.Duration(roundedTo(idle, idleNS)), time.Duration(roundedTo(interval, intervalNS))
		if userTimeoutNS == 0 {
			assert.Equal(t, i+n*time.Duration(count), bound, "%+v", cfg)
			return
		}
		// Linux: the first probe interval that ends after UserTimeout.
		ut := time.Duration(roundedTo(userTimeout, userTimeoutNS))
		assert.GreaterOrEqual(t, bound, i+n, "%+v", cfg)
		assert.True(t, bound >= ut || bound == i+n, "bound %v before the user timeout of %+v", bound, cfg)
		assert.Less(t, bound-n, max(ut, i+n), "bound %v more than one interval after the user timeout of %+v", bound, cfg)
	})
}

func FuzzFromKeepAliveConfig(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s[0], s[1], int(s[2]))
	}
	f.Fuzz(func(t *testing.T, idleNS, intervalNS int64, count int) {
		k := net.KeepAliveConfig{Enable: true, Idle: time.Duration(idleNS), Interval: time.Duration(intervalNS), Count: count}
		cfg := FromKeepAliveConfig(k)
		pick := func(x, def int64) int64 {
			if x < 0 {
				return 0 // Go leaves the value alone, and so does a zero field
			}
			if x == 0 {
				return def
			}
			return x
		}
		assert.Equal(t, Config{
			Idle:     time.Duration(pick(idleNS, int64(15*time.Second))),
			Interval: time.Duration(pick(intervalNS, int64(15*time.Second))),
			Count:    int(pick(int64(count), 9)),
		}, cfg, "FromKeepAliveConfig(%+v)", k)
		// And back: the same settings in Go's terms.
		back := cfg.KeepAliveConfig()
		assert.Equal(t, cfg, FromKeepAliveConfig(back), "through %+v", back)

		// Go's own SetKeepAliveConfig and Apply leave the same state. (Go
		// passes huge values truncated to the kernel, so it is the oracle
		// only where the Config is valid.)
		if cfg.Validate() != nil {
			return
		}
		mine, _ := pair(t)
		gos, _ := pair(t)
		require.NoError(t, cfg.Apply(mine))
		require.NoError(t, gos.SetKeepAliveConfig(k), "Go refused %+v, which Validate took as %+v", k, cfg)
		want, err := Get(gos)
		require.NoError(t, err)
		got, err := Get(mine)
		require.NoError(t, err)
		assert.Equal(t, want, got, "Apply(%+v) vs SetKeepAliveConfig(%+v)", cfg, k)
	})
}
