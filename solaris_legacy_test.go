package keepalive

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSolarisLegacyTable(t *testing.T) {
	p := &solarisLegacy
	assert.Equal(t, "solaris", p.goos)
	assert.NotNil(t, p.jointProbing)
	assert.Nil(t, solaris.jointProbing, "11.4 sets Interval and Count separately")
	assert.Equal(t, sockopt{}, p.knobs[count], "Count has no option of its own")
	for _, o := range p.knobs {
		assert.False(t, o.inherited, "%s: not documented", o.name)
		if o.name == "" {
			continue
		}
		assert.Equal(t, ipprotoTCP, o.level, o.name)
		assert.Equal(t, time.Millisecond, o.unit, o.name)
		assert.GreaterOrEqual(t, o.min, 1, o.name)
		assert.LessOrEqual(t, o.max, math.MaxInt32, o.name)
	}
	assert.Equal(t, [3]int{0x16, 0x17, 0x11}, [3]int{p.knobs[idle].opt, p.knobs[interval].opt, p.knobs[userTimeout].opt})
	assert.Equal(t, [3]string{"TCP_KEEPALIVE_THRESHOLD", "TCP_KEEPALIVE_ABORT_THRESHOLD", "TCP_ABORT_THRESHOLD"},
		[3]string{p.knobs[idle].name, p.knobs[interval].name, p.knobs[userTimeout].name})
	// 10 s to 10 days.
	assert.Equal(t, [2]int{10000, 864000000}, [2]int{p.knobs[idle].min, p.knobs[idle].max})
}

// What setsockopt gets: milliseconds, rounded up; Interval×Count as one.
func TestSolarisLegacyValues(t *testing.T) {
	cases := []struct {
		cfg  Config
		want [numKnobs]int
		set  [numKnobs]bool
	}{
		{Config{}, [numKnobs]int{}, [numKnobs]bool{}},
		{Config{Idle: 10 * time.Second}, [numKnobs]int{10000, 0, 0, 0}, [numKnobs]bool{true, false, false, false}},
		{Config{Idle: 10*time.Second + time.Nanosecond}, [numKnobs]int{10001, 0, 0, 0}, [numKnobs]bool{true, false, false, false}},
		{Config{Idle: 240 * time.Hour}, [numKnobs]int{864000000, 0, 0, 0}, [numKnobs]bool{true, false, false, false}},
		// Interval is rounded up to a millisecond before it is multiplied.
		{Config{Interval: 1500 * time.Microsecond, Count: 3}, [numKnobs]int{0, 6, 0, 0}, [numKnobs]bool{false, true, false, false}},
		{Config{Interval: 75 * time.Second, Count: 9}, [numKnobs]int{0, 675000, 0, 0}, [numKnobs]bool{false, true, false, false}},
		{Config{Interval: time.Nanosecond, Count: math.MaxInt32}, [numKnobs]int{0, math.MaxInt32, 0, 0}, [numKnobs]bool{false, true, false, false}},
		{Config{Idle: time.Minute, Interval: 10 * time.Second, Count: 5, UserTimeout: 1500 * time.Microsecond},
			[numKnobs]int{60000, 50000, 0, 2}, [numKnobs]bool{true, true, false, true}},
	}
	for _, tc := range cases {
		v, err := tc.cfg.values(&solarisLegacy)
		require.NoError(t, err, "%+v", tc.cfg)
		assert.Equal(t, tc.want, v.v, "%+v", tc.cfg)
		assert.Equal(t, tc.set, v.set, "%+v", tc.cfg)
		assert.Equal(t, [numKnobs]bool{}, v.missing, "%+v", tc.cfg)
		assert.NoError(t, v.shortfall(&solarisLegacy, 0, nil))
	}
}

// One of Interval and Count alone cannot be set: refused before any system
// call, so nothing changes.
func TestSolarisLegacyNeedsBoth(t *testing.T) {
	cases := []struct {
		cfg  Config
		text string
	}{
		{Config{Interval: 10 * time.Second}, "keepalive: not supported: solaris sets Interval and Count only together, as TCP_KEEPALIVE_ABORT_THRESHOLD = Interval×Count: Interval needs Count too"},
		{Config{Idle: time.Minute, Count: 3}, "keepalive: not supported: solaris sets Interval and Count only together, as TCP_KEEPALIVE_ABORT_THRESHOLD = Interval×Count: Count needs Interval too"},
	}
	for _, tc := range cases {
		v, err := tc.cfg.values(&solarisLegacy)
		assert.EqualError(t, err, tc.text)
		assert.ErrorIs(t, err, ErrUnsupported)
		assert.ErrorIs(t, err, errors.ErrUnsupported)
		assert.Equal(t, values{}, v)
	}
}

func TestSolarisLegacyRange(t *testing.T) {
	cases := []struct {
		cfg  Config
		text string
	}{
		{Config{Idle: 9999 * time.Millisecond}, "keepalive: Idle=9.999s out of range for TCP_KEEPALIVE_THRESHOLD on solaris (10s..240h0m0s)"},
		{Config{Idle: 240*time.Hour + time.Nanosecond}, "keepalive: Idle=240h0m0.000000001s out of range for TCP_KEEPALIVE_THRESHOLD on solaris (10s..240h0m0s)"},
		{Config{Interval: time.Hour, Count: 600}, "keepalive: Interval=1h0m0s out of range for TCP_KEEPALIVE_ABORT_THRESHOLD on solaris (1ms..59m39.139s)"},
		{Config{Interval: time.Duration(math.MaxInt64), Count: 1}, "keepalive: Interval=2562047h47m16.854775807s out of range for TCP_KEEPALIVE_ABORT_THRESHOLD on solaris (1ms..596h31m23.647s)"},
		{Config{Interval: -time.Second, Count: 3}, "keepalive: Interval=-1s is negative"},
		{Config{Interval: time.Second, Count: -3}, "keepalive: Count=-3 is negative"},
		{Config{UserTimeout: time.Duration(math.MaxInt32+1) * time.Millisecond}, "keepalive: UserTimeout=596h31m23.648s out of range for TCP_ABORT_THRESHOLD on solaris (1ms..596h31m23.647s)"},
	}
	if big := int64(math.MaxInt32) + 1; int64(int(big)) == big { // 64-bit int
		cases = append(cases, struct {
			cfg  Config
			text string
		}{Config{Interval: time.Millisecond, Count: int(big)}, "keepalive: Count=2147483648 out of range for TCP_KEEPALIVE_ABORT_THRESHOLD on solaris (1..2147483647)"})
	}
	for _, tc := range cases {
		_, err := tc.cfg.values(&solarisLegacy)
		require.ErrorIs(t, err, ErrOutOfRange, tc.text)
		assert.EqualError(t, err, tc.text)
	}
	// At the edge of Interval's range for a Count, and just past it.
	_, err := Config{Interval: 2147483 * time.Millisecond, Count: 1000}.values(&solarisLegacy)
	require.NoError(t, err)
	_, err = Config{Interval: 2147484 * time.Millisecond, Count: 1000}.values(&solarisLegacy)
	require.ErrorIs(t, err, ErrOutOfRange)
}

// The 11.4 table is untouched: Interval and Count are separate options.
func TestSolaris114Unchanged(t *testing.T) {
	v, err := Config{Interval: 10 * time.Second}.values(&solaris)
	require.NoError(t, err)
	assert.Equal(t, [numKnobs]int{0, 10, 0, 0}, v.v)
	v, err = Config{Idle: 10 * time.Second, Interval: 9500 * time.Millisecond, Count: 5, UserTimeout: time.Second}.values(&solaris)
	require.NoError(t, err)
	assert.Equal(t, [numKnobs]int{10, 10, 5, 1000}, v.v)
	assert.Equal(t, [numKnobs]bool{true, true, true, true}, v.set)
	assert.Equal(t, [3]int{0x1d, 0x1e, 0x1f}, [3]int{solaris.knobs[idle].opt, solaris.knobs[interval].opt, solaris.knobs[count].opt})
}

// DetectionBound and Within still work on the legacy table, in
// milliseconds.
func TestSolarisLegacyDetection(t *testing.T) {
	cfg := Config{Idle: 10*time.Second + 1, Interval: 1500*time.Microsecond + 1, Count: 2}
	assert.Equal(t, 10001*time.Millisecond+2*2*time.Millisecond, boundOn(t, cfg, &solarisLegacy))
	w, err := within(time.Minute, &solarisLegacy)
	require.NoError(t, err)
	assert.Equal(t, Config{Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: time.Minute}, w)
	_, err = within(10*time.Second, &solarisLegacy)
	assert.ErrorIs(t, err, ErrOutOfRange)
}

func TestSolarisHasKeepIdle(t *testing.T) {
	for version, want := range map[string]bool{
		"11.4.0.15.0":       true,
		"11.4.81.193.1":     true,
		"11.4":              true,
		"11.5":              true,
		"12.0.1":            true,
		"11.3":              false,
		"11.3.36.10.0":      false,
		"11.0":              false,
		"Generic_147148-26": false,
		"":                  false,
		"11":                false,
		"x.4":               false,
	} {
		assert.Equal(t, want, solarisHasKeepIdle(version), version)
	}
}
