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
var platforms = []*platform{&linux, &darwin, &freebsd, &dragonfly, &dragonflyLegacy, &netbsd, &openbsd, &illumos, &solaris, &aix}

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
				if p.limits.probing > 0 && knob(k) == interval {
					least := time.Duration(o.min) * o.unit * time.Duration(p.knobs[count].min)
					assert.GreaterOrEqual(t, p.limits.probing, least, "the smallest Interval*Count fits")
					assert.GreaterOrEqual(t, p.limits.detection, least+time.Duration(p.knobs[idle].min)*p.knobs[idle].unit, "the smallest Idle+Interval*Count fits")
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
	assert.Equal(t, [numKnobs]string{"TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_MAXUNACKTIME"}, names(&freebsd))
	assert.Equal(t, [numKnobs]string{"TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", ""}, names(&dragonfly))
	assert.Equal(t, [numKnobs]string{"TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", ""}, names(&netbsd))
	assert.Equal(t, [numKnobs]string{}, names(&openbsd))
	assert.Equal(t, [numKnobs]string{}, names(&dragonflyLegacy), "DragonFly before 5.8 counts milliseconds")
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
		{&darwin, Config{Idle: 2147483 * time.Second, Interval: time.Second, Count: 2147484, UserTimeout: 2147483 * time.Second}, [numKnobs]int{2147483, 1, 2147484, 2147483}},
		{&darwin, Config{Idle: 2147483 * time.Second, Interval: 2147483 * time.Second}, [numKnobs]int{2147483, 2147483, 0, 0}},
		{&darwin, Config{Count: math.MaxInt32}, [numKnobs]int{0, 0, math.MaxInt32, 0}},
		{&freebsd, Config{Idle: 10 * time.Second, Interval: 2*time.Second + 1, Count: 4, UserTimeout: 1500 * time.Millisecond}, [numKnobs]int{10, 3, 4, 2}},
		{&freebsd, Config{UserTimeout: 2147483 * time.Second}, [numKnobs]int{0, 0, 0, 2147483}},
		{&dragonfly, Config{Idle: time.Millisecond, Interval: 2147482 * time.Second, Count: 1}, [numKnobs]int{1, 2147482, 1, 0}},
		{&dragonfly, Config{Interval: 2147483 * time.Second}, [numKnobs]int{0, 2147483, 0, 0}},
		// NetBSD counts half seconds.
		{&netbsd, Config{Idle: 1200 * time.Millisecond, Interval: 500 * time.Millisecond, Count: 2}, [numKnobs]int{3, 1, 2, 0}},
		{&netbsd, Config{Idle: time.Nanosecond, Interval: 7 * time.Second}, [numKnobs]int{1, 14, 0, 0}},
		{&illumos, Config{Idle: time.Second, Interval: time.Second, Count: 4294966, UserTimeout: 1500 * time.Microsecond}, [numKnobs]int{1, 1, 4294966, 2}},
		{&illumos, Config{Idle: time.Second, Interval: time.Minute, Count: 71582}, [numKnobs]int{1, 60, 71582, 0}},
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
		// XNU compares timers as int32 milliseconds: 2147484 s would fire at once.
		{&darwin, Config{Idle: 2147484 * time.Second}, "keepalive: Idle=596h31m24s out of range for TCP_KEEPALIVE on darwin (1s..596h31m23s)"},
		{&darwin, Config{Interval: 2147483*time.Second + 1}, "keepalive: Interval=596h31m23.000000001s out of range for TCP_KEEPINTVL on darwin (1s..596h31m23s)"},
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

// Where a kernel keeps Interval*Count, or Idle+Interval*Count, in one
// variable, validation bounds it: one case per kernel that would overflow,
// just past its limit, and the largest value it holds.
func TestCombinedLimitsPerOS(t *testing.T) {
	cases := []struct {
		p         *platform
		over, max Config
		text      string
	}{
		// illumos: the abort threshold, Interval*Count in uint32
		// milliseconds, would wrap to 12.7 s.
		{&illumos, Config{Interval: time.Minute, Count: 71583}, Config{Interval: time.Minute, Count: 71582},
			"keepalive: Interval*Count=1193h3m0s out of range for TCP_KEEPINTVL*TCP_KEEPCNT on illumos (1s..1193h2m47s)"},
		// and the keepalive timer adds the idle time to it, also in uint32.
		{&illumos, Config{Idle: 240 * time.Hour, Interval: time.Minute, Count: 57183}, Config{Idle: 240 * time.Hour, Interval: time.Minute, Count: 57182},
			"keepalive: Idle+Interval*Count=1193h3m0s out of range for TCP_KEEPIDLE+TCP_KEEPINTVL*TCP_KEEPCNT on illumos (2s..1193h2m47s)"},
		{&solaris, Config{Interval: 10 * time.Second, Count: 429497}, Config{Interval: 10 * time.Second, Count: 429496},
			"keepalive: Interval*Count=1193h2m50s out of range for TCP_KEEPINTVL*TCP_KEEPCNT on solaris (10s..1193h2m47s)"},
		// XNU: TCP_CONN_MAXIDLE and TCP_CONN_KEEPIDLE + TCP_CONN_MAXIDLE
		// are uint32 milliseconds.
		{&darwin, Config{Interval: 2147483 * time.Second, Count: 3}, Config{Interval: 2147483 * time.Second, Count: 2},
			"keepalive: Interval*Count=1789h34m9s out of range for TCP_KEEPINTVL*TCP_KEEPCNT on darwin (1s..1193h2m47s)"},
		{&darwin, Config{Idle: 2 * time.Second, Interval: 2147483 * time.Second, Count: 2}, Config{Idle: time.Second, Interval: 2147483 * time.Second, Count: 2},
			"keepalive: Idle+Interval*Count=1193h2m48s out of range for TCP_KEEPALIVE+TCP_KEEPINTVL*TCP_KEEPCNT on darwin (2s..1193h2m47s)"},
		// FreeBSD: TP_MAXIDLE and TP_KEEPIDLE + TP_MAXIDLE are u_int ticks.
		{&freebsd, Config{Interval: 2147483 * time.Second, Count: 3}, Config{Interval: 2147483 * time.Second, Count: 2},
			"keepalive: Interval*Count=1789h34m9s out of range for TCP_KEEPINTVL*TCP_KEEPCNT on freebsd (1s..1193h2m47s)"},
		{&freebsd, Config{Idle: 2 * time.Second, Interval: 2147483 * time.Second, Count: 2}, Config{Idle: time.Second, Interval: 2147483 * time.Second, Count: 2},
			"keepalive: Idle+Interval*Count=1193h2m48s out of range for TCP_KEEPIDLE+TCP_KEEPINTVL*TCP_KEEPCNT on freebsd (2s..1193h2m47s)"},
		// DragonFly: t_maxidle and t_keepidle + t_maxidle are int ticks.
		{&dragonfly, Config{Interval: 1073742 * time.Second, Count: 2}, Config{Interval: 1073741 * time.Second, Count: 2},
			"keepalive: Interval*Count=596h31m24s out of range for TCP_KEEPINTVL*TCP_KEEPCNT on dragonfly (1s..596h31m23s)"},
		{&dragonfly, Config{Idle: 2 * time.Second, Interval: 1073741 * time.Second, Count: 2}, Config{Idle: time.Second, Interval: 1073741 * time.Second, Count: 2},
			"keepalive: Idle+Interval*Count=596h31m24s out of range for TCP_KEEPIDLE+TCP_KEEPINTVL*TCP_KEEPCNT on dragonfly (2s..596h31m23s)"},
		// NetBSD: t_maxidle and t_keepidle + t_maxidle are u_int half
		// seconds; a t_maxidle wrapped to 0 would never drop.
		{&netbsd, Config{Interval: 4294967 * netbsdSlowTick, Count: 1001}, Config{Interval: 4294967 * netbsdSlowTick, Count: 1000},
			"keepalive: Interval*Count=597119h43m3.5s out of range for TCP_KEEPINTVL*TCP_KEEPCNT on netbsd (500ms..596523h14m7.5s)"},
		{&netbsd, Config{Idle: 296 * netbsdSlowTick, Interval: 4294967 * netbsdSlowTick, Count: 1000}, Config{Idle: 295 * netbsdSlowTick, Interval: 4294967 * netbsdSlowTick, Count: 1000},
			"keepalive: Idle+Interval*Count=596523h14m8s out of range for TCP_KEEPIDLE+TCP_KEEPINTVL*TCP_KEEPCNT on netbsd (1s..596523h14m7.5s)"},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			_, err := tc.over.values(tc.p)
			assert.EqualError(t, err, tc.text)
			var re *RangeError
			require.ErrorAs(t, err, &re)
			assert.ErrorIs(t, err, ErrOutOfRange)
			assert.Contains(t, []string{"Interval*Count", "Idle+Interval*Count"}, re.Field)
			_, err = tc.over.detectionBound(tc.p)
			assert.Equal(t, re, err, "DetectionBound refuses it too")

			_, err = tc.max.values(tc.p)
			assert.NoError(t, err, "the largest value the kernel holds: %+v", tc.max)
		})
	}

	// A product with a field left to the socket cannot be checked before
	// the system call; Linux, AIX and the legacy tables keep none.
	for _, c := range []Config{{Interval: time.Minute}, {Count: 4294967}, {Idle: 240 * time.Hour, Count: 4294967}} {
		_, err := c.values(&illumos)
		assert.NoError(t, err, "%+v", c)
	}
	for _, p := range []*platform{&linux, &aix} {
		assert.Zero(t, p.limits, p.goos)
	}
	_, err := Config{Idle: 32767 * time.Second, Interval: 32767 * time.Second, Count: 127}.values(&linux)
	assert.NoError(t, err)
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
		{&dragonfly, Config{Idle: time.Second, UserTimeout: time.Second}, "keepalive: dragonfly has no per-socket option for UserTimeout (set: Idle)"},
		{&dragonflyLegacy, Config{Idle: time.Second, Interval: time.Second, Count: 3}, "keepalive: dragonfly has no per-socket option for Idle, Interval, Count (set: none)"},
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

// Each table that SystemDefaults reads through sysctls names its own; the
// others read them otherwise (Linux, Windows) or not at all.
func TestTablesNameTheirDefaults(t *testing.T) {
	for p, want := range map[*platform]*sysctlSpec{
		&darwin: &darwinDefaults, &freebsd: &freebsdDefaults, &dragonfly: &dragonflyDefaults,
		&dragonflyLegacy: &dragonflyDefaults, &netbsd: &netbsdDefaults, &openbsd: &openbsdDefaults,
		&linux: nil, &illumos: nil, &solaris: nil, &solarisLegacy: nil, &aix: nil,
	} {
		assert.Same(t, want, p.defaults, p.goos)
	}
}

func TestProcInt(t *testing.T) {
	n, err := procInt("/proc/sys/net/ipv4/tcp_keepalive_time", []byte("7200\n"))
	require.NoError(t, err)
	assert.Equal(t, 7200, n)
	_, err = procInt("/proc/sys/net/ipv4/tcp_keepalive_probes", []byte("nine\n"))
	assert.ErrorContains(t, err, "keepalive: /proc/sys/net/ipv4/tcp_keepalive_probes: ")
}

// DragonFly takes seconds from 5.8 on (kern.osreldate 500702, as libuv
// checks); before that the table sets no timing at all, since seconds
// would be read as milliseconds.
func TestDragonFlySplit(t *testing.T) {
	for v, want := range map[uint32]bool{0: false, 400000: false, 500701: false, 500702: true, 500800: true, 600400: true} {
		assert.Equal(t, want, dragonflyCountsSeconds(v), "kern.osreldate %d", v)
	}
	v, err := Config{Idle: time.Second, Interval: time.Second, Count: 3}.values(&dragonflyLegacy)
	require.NoError(t, err)
	assert.Equal(t, [numKnobs]bool{true, true, true, false}, v.missing)
	assert.ErrorIs(t, v.shortfall(&dragonflyLegacy, 0, nil), ErrUnsupported)
	_, err = within(time.Minute, &dragonflyLegacy)
	assert.ErrorIs(t, err, ErrUnsupported)
	// From 5.8 on, FreeBSD's options and numbers, without TCP_MAXUNACKTIME.
	assert.Equal(t, freebsd.knobs[:userTimeout], dragonfly.knobs[:userTimeout])
	assert.Zero(t, dragonfly.knobs[userTimeout])
}
