package keepalive

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Windows builds by what they have: 1709 and later (winsockModern), 1703
// (TCP_KEEPCNT, no per-socket timings), 1607 (TCP_MAXRTMS), older ones
// (TCP_MAXRT only), Wine 8 (the ioctl only) and Wine 10 (the keepalive
// options, no retransmission timeouts).
var (
	win1703  = winsockSupport{keepCnt: true, maxRTMS: true, maxRT: true}
	win1607  = winsockSupport{maxRTMS: true, maxRT: true}
	winOld   = winsockSupport{maxRT: true}
	winIoctl = winsockSupport{}
	wine10   = winsockSupport{keepIdle: true, keepIntvl: true, keepCnt: true}
)

func TestWinsockTables(t *testing.T) {
	modern := winsockModern.platform()
	assert.Equal(t, "windows", modern.goos)
	assert.Nil(t, modern.userTimeoutEndsProbing)
	want := [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPIDLE", level: 6, opt: 3, unit: time.Second, min: 1, max: 4294967},
		interval:    {name: "TCP_KEEPINTVL", level: 6, opt: 17, unit: time.Second, min: 1, max: 4294967},
		count:       {name: "TCP_KEEPCNT", level: 6, opt: 16, min: 1, max: 255},
		userTimeout: {name: "TCP_MAXRTMS", level: 6, opt: 14, unit: time.Millisecond, min: 1, max: math.MaxInt32},
	}
	assert.Equal(t, want, modern.knobs)

	ioctl := sockopt{name: "SIO_KEEPALIVE_VALS", unit: time.Second, min: 1, max: 4294967, byIoctl: true}
	maxRT := sockopt{name: "TCP_MAXRT", level: 6, opt: 5, unit: time.Second, min: 1, max: 4294967}
	assert.Equal(t, [numKnobs]sockopt{idle: ioctl, interval: ioctl, count: want[count], userTimeout: want[userTimeout]}, win1703.platform().knobs)
	assert.Equal(t, [numKnobs]sockopt{idle: ioctl, interval: ioctl, userTimeout: want[userTimeout]}, win1607.platform().knobs)
	assert.Equal(t, [numKnobs]sockopt{idle: ioctl, interval: ioctl, userTimeout: maxRT}, winOld.platform().knobs)
	assert.Equal(t, [numKnobs]sockopt{idle: ioctl, interval: ioctl}, winIoctl.platform().knobs)

	assert.False(t, winsockModern.ioctl())
	assert.True(t, win1703.ioctl())
	assert.True(t, winsockSupport{keepIdle: true}.ioctl(), "the ioctl unless both options exist")

	// SIO_KEEPALIVE_VALS is _WSAIOW(IOC_VENDOR, 4).
	const iocIn, iocVendor = 0x80000000, 0x18000000
	assert.Equal(t, uint32(iocIn|iocVendor|4), uint32(winSIOKeepaliveVals))
	// Every Idle and Interval the table accepts fits the ioctl's ULONG
	// milliseconds.
	assert.LessOrEqual(t, uint64(winMaxKeepaliveSeconds)*1000, uint64(math.MaxUint32))
	assert.Greater(t, uint64(winMaxKeepaliveSeconds+1)*1000, uint64(math.MaxUint32))
}

func TestWinsockValues(t *testing.T) {
	modern, old := winsockModern.platform(), winOld.platform()
	for _, p := range []*platform{&modern, &old} {
		// Whole seconds on every build, rounded up as Go rounds them.
		v, err := Config{Idle: time.Millisecond, Interval: 1500 * time.Millisecond}.values(p)
		require.NoError(t, err)
		assert.Equal(t, [2]int{1, 2}, [2]int{v.v[idle], v.v[interval]})
		_, err = Config{Idle: 4294967 * time.Second, Interval: 4294967 * time.Second}.values(p)
		require.NoError(t, err)
		_, err = Config{Interval: 4294967*time.Second + 1}.values(p)
		var re *RangeError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, RangeError{Field: "Interval", Option: p.knobs[interval].name, OS: "windows",
			Value: int64(4294967*time.Second + 1), Min: int64(time.Second), Max: int64(4294967 * time.Second)}, *re)
	}

	// TCP_MAXRTMS in milliseconds, TCP_MAXRT in seconds, both rounded up.
	v, err := Config{UserTimeout: 1500 * time.Microsecond}.values(&modern)
	require.NoError(t, err)
	assert.Equal(t, 2, v.v[userTimeout])
	v, err = Config{UserTimeout: 1500 * time.Millisecond}.values(&old)
	require.NoError(t, err)
	assert.Equal(t, 2, v.v[userTimeout])
	_, err = Config{UserTimeout: math.MaxInt32 * time.Millisecond}.values(&modern)
	require.NoError(t, err)
	_, err = Config{UserTimeout: math.MaxInt32*time.Millisecond + 1}.values(&modern)
	assert.ErrorContains(t, err, "out of range for TCP_MAXRTMS on windows (1ms..596h31m23.647s)")

	_, err = Config{Count: 255}.values(&modern)
	require.NoError(t, err)
	_, err = Config{Count: 256}.values(&modern)
	assert.EqualError(t, err, "keepalive: Count=256 out of range for TCP_KEEPCNT on windows (1..255)")

	// Without TCP_KEEPCNT (or any user timeout option) the field is
	// missing: applied nowhere, and named in the error.
	ioctl := winIoctl.platform()
	v, err = Config{Idle: time.Second, Count: 3, UserTimeout: time.Second}.values(&ioctl)
	require.NoError(t, err)
	assert.True(t, v.set[idle])
	assert.False(t, v.set[count])
	assert.False(t, v.set[userTimeout])
	err = v.shortfall(&ioctl, 0, nil)
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.EqualError(t, err, "keepalive: windows has no per-socket option for Count, UserTimeout (set: Idle)")
	_, err = Config{Count: -1}.values(&ioctl)
	assert.ErrorIs(t, err, ErrOutOfRange, "a negative field is an error even where it cannot be set")

	// No user timeout ends the probes early: Idle + Interval*Count.
	assert.Equal(t, 7*time.Second, boundOn(t, Config{Idle: time.Second, Interval: 2 * time.Second, Count: 3, UserTimeout: time.Second}, &modern))
}

func TestKeepaliveVals(t *testing.T) {
	p := winIoctl.platform()
	vals := func(c Config, def Config) (tcpKeepalive, bool) {
		v, err := c.values(&p)
		require.NoError(t, err)
		return keepaliveVals(&v, def)
	}
	def := Config{Idle: 5 * time.Minute, Interval: 2 * time.Second, Count: 10}

	ka, ok := vals(Config{Idle: 7 * time.Second, Interval: 1500 * time.Millisecond}, def)
	assert.True(t, ok)
	assert.Equal(t, tcpKeepalive{onoff: 1, keepalivetime: 7000, keepaliveinterval: 2000}, ka)

	// A zero field is sent as the system default, never as 0.
	ka, _ = vals(Config{Idle: 7 * time.Second}, def)
	assert.Equal(t, tcpKeepalive{onoff: 1, keepalivetime: 7000, keepaliveinterval: 2000}, ka)
	ka, _ = vals(Config{Interval: 3 * time.Second, Count: 4}, def)
	assert.Equal(t, tcpKeepalive{onoff: 1, keepalivetime: 300000, keepaliveinterval: 3000}, ka)
	// With no system defaults known, the documented ones.
	ka, _ = vals(Config{Interval: 3 * time.Second}, Config{})
	assert.Equal(t, tcpKeepalive{onoff: 1, keepalivetime: 7200000, keepaliveinterval: 3000}, ka)
	ka, _ = vals(Config{Idle: 3 * time.Second}, Config{})
	assert.Equal(t, tcpKeepalive{onoff: 1, keepalivetime: 3000, keepaliveinterval: 1000}, ka)

	// Defaults are rounded up to milliseconds within the ioctl's range.
	ka, _ = vals(Config{Idle: time.Second}, Config{Interval: 1500 * time.Microsecond})
	assert.EqualValues(t, 2, ka.keepaliveinterval)
	ka, _ = vals(Config{Idle: time.Second}, Config{Interval: 100 * 24 * time.Hour})
	assert.EqualValues(t, uint32(math.MaxUint32), ka.keepaliveinterval)

	// The longest accepted values fit.
	ka, _ = vals(Config{Idle: 4294967 * time.Second, Interval: 4294967 * time.Second}, def)
	assert.Equal(t, tcpKeepalive{onoff: 1, keepalivetime: 4294967000, keepaliveinterval: 4294967000}, ka)

	// Nothing to send without Idle or Interval.
	_, ok = vals(Config{Count: 3}, def)
	assert.False(t, ok)
	_, ok = vals(Config{}, def)
	assert.False(t, ok)
}

func TestWinDefaults(t *testing.T) {
	documented := Config{Idle: 2 * time.Hour, Interval: time.Second, Count: 10}
	assert.Equal(t, documented, winDefaults(0, 0, false, false))
	assert.Equal(t, documented, winDefaults(0, 0, true, true), "0 is not a valid registry value")
	assert.Equal(t, Config{Idle: 5 * time.Minute, Interval: 250 * time.Millisecond, Count: 10}, winDefaults(300000, 250, true, true))
	assert.Equal(t, Config{Idle: 5 * time.Minute, Interval: time.Second, Count: 10}, winDefaults(300000, 250, true, false))
	assert.Equal(t, time.Duration(math.MaxUint32)*time.Millisecond, winDefaults(math.MaxUint64, 0, true, false).Idle)
}

// wsaError stands for a Winsock error number in tests that run on any OS.
type wsaError int

func (e wsaError) Error() string { return "wsa error " + strconv.Itoa(int(e)) }

const (
	testWSAEINVAL      wsaError = 10022
	testWSAENOPROTOOPT wsaError = 10042
	testWSAEOPNOTSUPP  wsaError = 10045
)

func TestDetectWinsock(t *testing.T) {
	// probe answers each option number with its error, and records what
	// was tried.
	probe := func(errs map[int]error) (func(opt, value int) error, map[int]int) {
		tried := map[int]int{}
		return func(opt, value int) error {
			tried[opt] = value
			return errs[opt]
		}, tried
	}
	missing := func(opts ...int) map[int]error {
		m := map[int]error{}
		for _, o := range opts {
			m[o] = &OptionError{Op: "set", Err: testWSAENOPROTOOPT} // wrapped, still matched
		}
		return m
	}

	set, tried := probe(nil)
	assert.Equal(t, winsockModern, detectWinsock(set, testWSAENOPROTOOPT))
	// Values every system with the option accepts, so that only a
	// missing option fails.
	assert.Equal(t, map[int]int{3: 7200, 17: 1, 16: 10, 14: 60000, 5: 60}, tried)

	for name, tc := range map[string]struct {
		errs map[int]error
		want winsockSupport
	}{
		"Wine 8: nothing per socket":                 {missing(3, 17, 16, 14, 5), winIoctl},
		"Wine 10: keepalive, no retransmission ones": {missing(14, 5), wine10},
		"1703":                       {missing(3, 17), win1703},
		"1607":                       {missing(3, 17, 16), win1607},
		"before 1607":                {missing(3, 17, 16, 14), winOld},
		"a refused value is present": {map[int]error{3: testWSAEINVAL, 16: testWSAEINVAL}, winsockModern},
		// Go's net package counts only WSAENOPROTOOPT as missing.
		"any other error is present": {map[int]error{17: testWSAEOPNOTSUPP, 14: errors.ErrUnsupported}, winsockModern},
	} {
		set, _ := probe(tc.errs)
		assert.Equal(t, tc.want, detectWinsock(set, testWSAENOPROTOOPT), name)
	}
}

func TestWinsockByBuild(t *testing.T) {
	for _, tc := range []struct {
		major, build uint32
		want         winsockSupport
	}{
		{6, 7601, winOld}, // 7 SP1, and what Wine 8 reports
		{6, 99999, winOld},
		{10, 10240, winOld}, // 1507
		{10, 14392, winOld},
		{10, 14393, win1607},
		{10, 15062, win1607},
		{10, 15063, win1703},
		{10, 16298, win1703},
		{10, 16299, winsockModern}, // 1709
		{10, 19043, winsockModern}, // what Wine 10 reports
		{10, 26100, winsockModern}, // 11 24H2
		{11, 0, winsockModern},
	} {
		assert.Equal(t, tc.want, winsockByBuild(tc.major, tc.build), "%d.%d", tc.major, tc.build)
	}
}

// Under Wine on Linux the table carries Linux's limits, as the Linux socket
// under Wine enforces them: a value Windows takes and Linux refuses is a
// RangeError before any system call, not a refusal half-way through Apply.
func TestWinsockWineOnLinux(t *testing.T) {
	assert.Equal(t, winsockSupport{}, winIoctl.underWine(""), "Windows itself")
	assert.Equal(t, winsockSupport{}, winIoctl.underWine("Darwin"), "Wine on macOS: limits not known")
	assert.Equal(t, winsockSupport{wineOnLinux: true}, winIoctl.underWine("Linux"))

	// Wine 10: the per-socket options, at Linux's limits.
	w10 := wine10.underWine("Linux").platform()
	assert.Equal(t, "windows", w10.goos)
	assert.Equal(t, [numKnobs]sockopt{
		idle:     {name: "TCP_KEEPIDLE", level: 6, opt: 3, unit: time.Second, min: 1, max: 32767, host: "Wine on Linux"},
		interval: {name: "TCP_KEEPINTVL", level: 6, opt: 17, unit: time.Second, min: 1, max: 32767, host: "Wine on Linux"},
		count:    {name: "TCP_KEEPCNT", level: 6, opt: 16, min: 1, max: 127, host: "Wine on Linux"},
	}, w10.knobs)
	// Wine 8: the ioctl, which Wine turns into TCP_KEEPIDLE and
	// TCP_KEEPINTVL on the Linux socket.
	w8 := winIoctl.underWine("Linux").platform()
	ioctl := sockopt{name: "SIO_KEEPALIVE_VALS", unit: time.Second, min: 1, max: 32767, byIoctl: true, host: "Wine on Linux"}
	assert.Equal(t, [numKnobs]sockopt{idle: ioctl, interval: ioctl}, w8.knobs)
	// Where the host's limit is not the smaller one, Windows' stays: a
	// Wine with the retransmission timeouts would keep their limits.
	full := winsockModern.underWine("Linux").platform()
	assert.Equal(t, winsockModern.platform().knobs[userTimeout], full.knobs[userTimeout])

	// Linux's largest values are taken, one more is refused up front with
	// the option, the OS and the host's range.
	for _, p := range []*platform{&w10, &w8} {
		_, err := Config{Idle: 32767 * time.Second, Interval: 32767 * time.Second}.values(p)
		require.NoError(t, err)
		_, err = Config{Idle: 32767*time.Second + 1}.values(p)
		var re *RangeError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, RangeError{Field: "Idle", Option: p.knobs[idle].name, OS: "windows",
			Value: int64(32767*time.Second + 1), Min: int64(time.Second), Max: int64(32767 * time.Second), host: "Wine on Linux"}, *re)
		assert.EqualError(t, err, "keepalive: Idle=9h6m7.000000001s out of range for "+p.knobs[idle].name+
			" on windows under Wine on Linux (1s..9h6m7s)")
		_, err = Config{Interval: 40000 * time.Second}.values(p)
		assert.ErrorIs(t, err, ErrOutOfRange)
		assert.ErrorContains(t, err, "Interval=11h6m40s out of range for "+p.knobs[interval].name+" on windows under Wine on Linux (1s..9h6m7s)")
	}
	_, err := Config{Count: 127}.values(&w10)
	require.NoError(t, err)
	for _, n := range []int{128, 255} {
		_, err = Config{Idle: 5 * time.Second, Count: n}.values(&w10)
		var re *RangeError
		require.ErrorAs(t, err, &re, "Count=%d", n)
		assert.Equal(t, RangeError{Field: "Count", Option: "TCP_KEEPCNT", OS: "windows", Value: int64(n), Min: 1, Max: 127, host: "Wine on Linux"}, *re)
		assert.EqualError(t, err, "keepalive: Count="+strconv.Itoa(n)+" out of range for TCP_KEEPCNT on windows under Wine on Linux (1..127)")
	}
	// Without TCP_KEEPCNT (Wine 8) Count is missing, whatever its value.
	v, err := Config{Idle: 5 * time.Second, Count: 200}.values(&w8)
	require.NoError(t, err)
	assert.True(t, v.missing[count])
}
