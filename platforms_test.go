package keepalive

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// platforms are every OS's tables, tested here whatever the OS running the
// tests.
var platforms = []*platform{&linux, &darwin, &freebsd, &dragonfly, &netbsd, &openbsd, &illumos, &solaris, &aix}

func TestTablesAreConsistent(t *testing.T) {
	for _, p := range platforms {
		t.Run(p.goos, func(t *testing.T) {
			opts := map[int]string{}
			for k, o := range p.knobs {
				if o.name == "" {
					assert.Zero(t, o, "%s: a missing knob has no option", fieldNames[k])
					continue
				}
				assert.Equal(t, ipprotoTCP, o.level, o.name)
				assert.GreaterOrEqual(t, o.min, 1, "%s: zero means leave alone", o.name)
				assert.LessOrEqual(t, o.min, o.max, o.name)
				assert.LessOrEqual(t, int64(o.max), int64(math.MaxInt32), "%s: setsockopt takes an int", o.name)
				if knob(k) == count {
					assert.Zero(t, o.unit, "%s: a count has no unit", o.name)
				} else {
					assert.Positive(t, o.unit, "%s: a duration has a unit", o.name)
				}
				prev, dup := opts[o.opt]
				assert.False(t, dup, "%s and %s share option %#x", prev, o.name, o.opt)
				opts[o.opt] = o.name
			}
		})
	}
}

// Which knobs each OS can set per socket, and under which name.
func TestTableNames(t *testing.T) {
	names := func(p *platform) [numKnobs]string {
		var n [numKnobs]string
		for k, o := range p.knobs {
			n[k] = o.name
		}
		return n
	}
	assert.Equal(t, [numKnobs]string{"TCP_KEEPALIVE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_RXT_CONNDROPTIME"}, names(&darwin))
	assert.Equal(t, [numKnobs]string{"TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", ""}, names(&freebsd))
	assert.Equal(t, [numKnobs]string{"TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", ""}, names(&dragonfly))
	assert.Equal(t, [numKnobs]string{"TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", ""}, names(&netbsd))
	assert.Equal(t, [numKnobs]string{}, names(&openbsd))
	assert.Equal(t, [numKnobs]string{"TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_ABORT_THRESHOLD"}, names(&illumos))
	assert.Equal(t, [numKnobs]string{"TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_ABORT_THRESHOLD"}, names(&solaris))
	assert.Equal(t, [numKnobs]string{"TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", ""}, names(&aix))

	// Solaris 11.4 and illumos use different numbers for the same names.
	assert.Equal(t, [3]int{0x1d, 0x1e, 0x1f}, [3]int{solaris.knobs[idle].opt, solaris.knobs[interval].opt, solaris.knobs[count].opt})
	assert.Equal(t, [3]int{0x22, 0x24, 0x23}, [3]int{illumos.knobs[idle].opt, illumos.knobs[interval].opt, illumos.knobs[count].opt})
}

// The values each OS's setsockopt gets, after rounding up to its unit.
func TestValuesPerOS(t *testing.T) {
	cases := []struct {
		p    *platform
		cfg  Config
		want [numKnobs]int
	}{
		{&darwin, Config{Idle: 1500 * time.Millisecond, Interval: time.Nanosecond, Count: 3, UserTimeout: 2500 * time.Millisecond}, [numKnobs]int{2, 1, 3, 3}},
		{&darwin, Config{Idle: 4294967 * time.Second, Interval: 4294967 * time.Second, Count: math.MaxInt32, UserTimeout: 2147483 * time.Second}, [numKnobs]int{4294967, 4294967, math.MaxInt32, 2147483}},
		{&freebsd, Config{Idle: 10 * time.Second, Interval: 2*time.Second + 1, Count: 4}, [numKnobs]int{10, 3, 4, 0}},
		{&dragonfly, Config{Idle: time.Millisecond, Interval: 2147483 * time.Second, Count: 1}, [numKnobs]int{1, 2147483, 1, 0}},
		// NetBSD counts half seconds.
		{&netbsd, Config{Idle: 1200 * time.Millisecond, Interval: 500 * time.Millisecond, Count: 2}, [numKnobs]int{3, 1, 2, 0}},
		{&netbsd, Config{Idle: time.Nanosecond, Interval: 7 * time.Second}, [numKnobs]int{1, 14, 0, 0}},
		{&illumos, Config{Idle: time.Second, Interval: time.Minute, Count: 4294967, UserTimeout: 1500 * time.Microsecond}, [numKnobs]int{1, 60, 4294967, 2}},
		{&solaris, Config{Idle: 10 * time.Second, Interval: 9500 * time.Millisecond, Count: 5, UserTimeout: time.Second}, [numKnobs]int{10, 10, 5, 1000}},
		{&aix, Config{Idle: 5 * time.Second, Interval: time.Second, Count: 9}, [numKnobs]int{5, 1, 9, 0}},
	}
	for _, tc := range cases {
		v, err := tc.cfg.values(tc.p)
		require.NoError(t, err, "%s %+v", tc.p.goos, tc.cfg)
		assert.Equal(t, tc.want, v.v, "%s %+v", tc.p.goos, tc.cfg)
		for k := range numKnobs {
			assert.Equal(t, tc.want[k] != 0, v.set[k], "%s: %s set", tc.p.goos, fieldNames[k])
		}
		assert.NoError(t, v.shortfall(tc.p, 0, nil))
	}

	// Read back, a value is a whole number of units.
	assert.Equal(t, int64(1500*time.Millisecond), fromUnit(3, netbsd.knobs[idle].unit))
	assert.Equal(t, int64(2*time.Millisecond), fromUnit(2, illumos.knobs[userTimeout].unit))
}

func TestRangeErrorsPerOS(t *testing.T) {
	cases := []struct {
		p    *platform
		cfg  Config
		text string
	}{
		{&darwin, Config{Idle: 4294968 * time.Second}, "keepalive: Idle=1193h2m48s out of range for TCP_KEEPALIVE on darwin (1s..1193h2m47s)"},
		{&darwin, Config{Interval: 4294967*time.Second + 1}, "keepalive: Interval=1193h2m47.000000001s out of range for TCP_KEEPINTVL on darwin (1s..1193h2m47s)"},
		{&darwin, Config{UserTimeout: 2147484 * time.Second}, "keepalive: UserTimeout=596h31m24s out of range for TCP_RXT_CONNDROPTIME on darwin (1s..596h31m23s)"},
		{&darwin, Config{Count: -1}, "keepalive: Count=-1 is negative"},
		{&freebsd, Config{Idle: 2147484 * time.Second}, "keepalive: Idle=596h31m24s out of range for TCP_KEEPIDLE on freebsd (1s..596h31m23s)"},
		{&dragonfly, Config{Interval: 2147484 * time.Second}, "keepalive: Interval=596h31m24s out of range for TCP_KEEPINTVL on dragonfly (1s..596h31m23s)"},
		{&netbsd, Config{Idle: 2147484 * time.Second}, "keepalive: Idle=596h31m24s out of range for TCP_KEEPIDLE on netbsd (500ms..596h31m23.5s)"},
		{&netbsd, Config{Interval: -time.Millisecond}, "keepalive: Interval=-1ms is negative"},
		{&illumos, Config{Interval: 61 * time.Second}, "keepalive: Interval=1m1s out of range for TCP_KEEPINTVL on illumos (1s..1m0s)"},
		{&illumos, Config{Idle: 864001 * time.Second}, "keepalive: Idle=240h0m1s out of range for TCP_KEEPIDLE on illumos (1s..240h0m0s)"},
		{&illumos, Config{Count: 4294968}, "keepalive: Count=4294968 out of range for TCP_KEEPCNT on illumos (1..4294967)"},
		{&solaris, Config{Idle: 9 * time.Second}, "keepalive: Idle=9s out of range for TCP_KEEPIDLE on solaris (10s..240h0m0s)"},
		{&solaris, Config{Interval: 9 * time.Second}, "keepalive: Interval=9s out of range for TCP_KEEPINTVL on solaris (10s..240h0m0s)"},
		{&solaris, Config{UserTimeout: time.Duration(math.MaxInt32+1) * time.Millisecond}, "keepalive: UserTimeout=596h31m23.648s out of range for TCP_ABORT_THRESHOLD on solaris (1ms..596h31m23.647s)"},
		{&aix, Config{Idle: (math.MaxInt32/2 + 1) * time.Second}, "keepalive: Idle=298261h37m4s out of range for TCP_KEEPIDLE on aix (1s..298261h37m3s)"},
		{&openbsd, Config{Idle: -time.Second}, "keepalive: Idle=-1s is negative"},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			_, err := tc.cfg.values(tc.p)
			require.ErrorIs(t, err, ErrOutOfRange)
			assert.EqualError(t, err, tc.text)
			var re *RangeError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.p.goos, re.OS)
		})
	}
}

// Where an OS has no per-socket option for a field, Apply sets the rest,
// turns keepalive on, and names each such field in an error that matches
// ErrUnsupported.
func TestMissingKnobsPerOS(t *testing.T) {
	cases := []struct {
		p    *platform
		cfg  Config
		text string
	}{
		{&openbsd, Config{Idle: time.Second, Count: 3}, "keepalive: openbsd has no per-socket option for Idle, Count (set: none)"},
		{&openbsd, Config{Idle: time.Second, Interval: time.Second, Count: 3, UserTimeout: time.Second}, "keepalive: openbsd has no per-socket option for Idle, Interval, Count, UserTimeout (set: none)"},
		{&freebsd, Config{Idle: time.Second, UserTimeout: time.Second}, "keepalive: freebsd has no per-socket option for UserTimeout (set: Idle)"},
		{&netbsd, Config{UserTimeout: time.Hour}, "keepalive: netbsd has no per-socket option for UserTimeout (set: none)"},
		{&dragonfly, Config{UserTimeout: time.Hour}, "keepalive: dragonfly has no per-socket option for UserTimeout (set: none)"},
		{&aix, Config{UserTimeout: time.Hour}, "keepalive: aix has no per-socket option for UserTimeout (set: none)"},
	}
	for _, tc := range cases {
		v, err := tc.cfg.values(tc.p)
		require.NoError(t, err, "validation accepts what the OS cannot set: %s", tc.text)
		for k := range numKnobs {
			assert.False(t, v.set[k] && v.missing[k], "%s: %s both set and missing", tc.p.goos, fieldNames[k])
		}
		err = v.shortfall(tc.p, 0, nil)
		assert.EqualError(t, err, tc.text)
		assert.ErrorIs(t, err, ErrUnsupported)
		assert.ErrorIs(t, err, errors.ErrUnsupported)
	}

	// A zero Config asks for nothing OpenBSD lacks: keepalive on, no error.
	v, err := Config{}.values(&openbsd)
	require.NoError(t, err)
	assert.NoError(t, v.shortfall(&openbsd, 0, nil))
}

// DetectionBound rounds as each OS's Apply rounds.
func TestDetectionBoundPerOS(t *testing.T) {
	cfg := Config{Idle: 1200 * time.Millisecond, Interval: 700 * time.Millisecond, Count: 2}
	assert.Equal(t, 3500*time.Millisecond, boundOn(t, cfg, &netbsd))
	assert.Equal(t, 4*time.Second, boundOn(t, cfg, &darwin))
	assert.Equal(t, 4*time.Second, boundOn(t, cfg, &freebsd))
}

func TestSysctlDefaultsConversion(t *testing.T) {
	want := Config{Idle: 2 * time.Hour, Interval: 75 * time.Second, Count: 8}
	// Darwin, FreeBSD and DragonFly show milliseconds.
	for _, s := range []*sysctlSpec{&darwinDefaults, &freebsdDefaults, &dragonflyDefaults} {
		assert.Equal(t, want, s.config(7200000, 75000, 8, 0), s.idle)
		assert.Equal(t, Config{Idle: 1500 * time.Millisecond, Interval: time.Millisecond, Count: 1}, s.config(1500, 1, 1, 0))
		assert.Equal(t, "net.inet.tcp.keepcnt", s.count)
	}
	// NetBSD shows slow-timeout ticks, PR_SLOWHZ (2) a second, whether or
	// not net.inet.tcp.slowhz can be read.
	assert.Equal(t, want, netbsdDefaults.config(14400, 150, 8, 2))
	assert.Equal(t, want, netbsdDefaults.config(14400, 150, 8, 0))
	assert.Equal(t, Config{Idle: 2 * time.Hour, Interval: 75 * time.Second, Count: 8}, netbsdDefaults.config(72000, 750, 8, 10))
	// OpenBSD shows seconds, or ticks on releases that still have
	// net.inet.tcp.slowhz, and always probes 8 times.
	assert.Equal(t, want, openbsdDefaults.config(7200, 75, 0, 0))
	assert.Equal(t, want, openbsdDefaults.config(14400, 150, 0, 2))
	assert.Equal(t, want, openbsdDefaults.config(7200, 75, 123, 0), "the fixed count, whatever was read")
	assert.Empty(t, openbsdDefaults.count)

	for _, s := range []*sysctlSpec{&darwinDefaults, &freebsdDefaults, &dragonflyDefaults, &netbsdDefaults, &openbsdDefaults} {
		assert.Equal(t, "net.inet.tcp.keepidle", s.idle)
		assert.Equal(t, "net.inet.tcp.keepintvl", s.interval)
	}
}

func TestProcInt(t *testing.T) {
	n, err := procInt("/proc/sys/net/ipv4/tcp_keepalive_time", []byte("7200\n"))
	require.NoError(t, err)
	assert.Equal(t, 7200, n)
	_, err = procInt("/proc/sys/net/ipv4/tcp_keepalive_probes", []byte("nine\n"))
	assert.ErrorContains(t, err, "keepalive: /proc/sys/net/ipv4/tcp_keepalive_probes: ")
}
