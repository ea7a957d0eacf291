package keepalive

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Windows builds by what they have: 1709 and later, 1703 (TCP_KEEPCNT
// only), and older ones or Wine (the ioctl only).
var (
	win1703  = winsockSupport{keepCnt: true, maxRT: true}
	winOld   = winsockSupport{maxRT: true}
	winIoctl = winsockSupport{}
)

func TestWinsockTables(t *testing.T) {
	modern := winsockModern.platform()
	assert.Equal(t, "windows", modern.goos)
	assert.False(t, modern.userTimeoutEndsProbes)
	want := [numKnobs]sockopt{
		idle:        {name: "TCP_KEEPIDLE", level: 6, opt: 3, unit: time.Second, min: 1, max: 4294967},
		interval:    {name: "TCP_KEEPINTVL", level: 6, opt: 17, unit: time.Second, min: 1, max: 4294967},
		count:       {name: "TCP_KEEPCNT", level: 6, opt: 16, min: 1, max: 255},
		userTimeout: {name: "TCP_MAXRTMS", level: 6, opt: 14, unit: time.Millisecond, min: 1, max: math.MaxInt32},
	}
	assert.Equal(t, want, modern.knobs)

	ioctl := sockopt{name: "SIO_KEEPALIVE_VALS", unit: time.Second, min: 1, max: 4294967}
	maxRT := sockopt{name: "TCP_MAXRT", level: 6, opt: 5, unit: time.Second, min: 1, max: 4294967}
	assert.Equal(t, [numKnobs]sockopt{idle: ioctl, interval: ioctl, count: want[count], userTimeout: maxRT}, win1703.platform().knobs)
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
	err = v.unsupported(&ioctl)
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.EqualError(t, err, "keepalive: not supported: windows cannot set Count, UserTimeout per socket")
	_, err = Config{Count: -1}.values(&ioctl)
	assert.ErrorIs(t, err, ErrOutOfRange, "a negative field is an error even where it cannot be set")

	// No user timeout ends the probes early: Idle + Interval*Count.
	assert.Equal(t, 7*time.Second, Config{Idle: time.Second, Interval: 2 * time.Second, Count: 3, UserTimeout: time.Second}.detectionBound(&modern))
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

func TestWinsockUnreadable(t *testing.T) {
	assert.NoError(t, winsockModern.unreadable())
	for s, text := range map[winsockSupport]string{
		winIoctl: "keepalive: not supported: windows cannot read Idle, Interval, Count, UserTimeout back on this system (no TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_MAXRTMS)",
		winOld:   "keepalive: not supported: windows cannot read Idle, Interval, Count back on this system (no TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT)",
		win1703:  "keepalive: not supported: windows cannot read Idle, Interval back on this system (no TCP_KEEPIDLE, TCP_KEEPINTVL)",
	} {
		err := s.unreadable()
		assert.EqualError(t, err, text)
		assert.ErrorIs(t, err, ErrUnsupported)
		assert.ErrorIs(t, err, errors.ErrUnsupported)
	}
}
