//go:build unix || windows

package keepalive

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a fake system-call layer: it records every socket call the
// generic path makes, answers reads from values, and fails the options
// named in fail. It lets any OS's table run through setAll and getAll here.
type recorder struct {
	calls  []string
	values map[string]int
	fail   map[string]error
}

func (r *recorder) set(_ uintptr, o *sockopt, value int) error {
	r.calls = append(r.calls, fmt.Sprintf("%s=%d", o.name, value))
	return r.fail[o.name]
}

func (r *recorder) get(_ uintptr, o *sockopt) (int, error) {
	r.calls = append(r.calls, "get "+o.name)
	return r.values[o.name], r.fail[o.name]
}

func (r *recorder) setTogether(_ uintptr, p *platform, v values) error {
	var names []string
	for k := range numKnobs {
		if p.knobs[k].byIoctl && v.set[k] {
			names = append(names, fmt.Sprintf("%s=%d", fieldNames[k], v.v[k]))
		}
	}
	r.calls = append(r.calls, fmt.Sprint("together ", names))
	return r.fail["together"]
}

// recording swaps in r for the test's duration.
func recording(t *testing.T, r *recorder) *recorder {
	saved := sys
	sys = r
	t.Cleanup(func() { sys = saved })
	return r
}

// applyOn runs cfg through the generic path on table p, with r recording.
func applyOn(t *testing.T, p *platform, cfg Config, r *recorder) error {
	t.Helper()
	v, err := cfg.values(p)
	require.NoError(t, err, "%s %+v", p.goos, cfg)
	recording(t, r)
	return setAll(p, 0, &v)
}

// Every table: each knob's option once, with the value in its unit, in
// Config order, and SO_KEEPALIVE last, after every timing.
func TestSetAllSequencePerOS(t *testing.T) {
	cfg := Config{Idle: 20 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: 50 * time.Second}
	cases := map[string]struct {
		p    *platform
		want []string
	}{
		"linux":     {&linux, []string{"TCP_KEEPIDLE=20", "TCP_KEEPINTVL=10", "TCP_KEEPCNT=3", "TCP_USER_TIMEOUT=50000", "SO_KEEPALIVE=1"}},
		"darwin":    {&darwin, []string{"TCP_KEEPALIVE=20", "TCP_KEEPINTVL=10", "TCP_KEEPCNT=3", "TCP_RXT_CONNDROPTIME=50", "SO_KEEPALIVE=1"}},
		"freebsd":   {&freebsd, []string{"TCP_KEEPIDLE=20", "TCP_KEEPINTVL=10", "TCP_KEEPCNT=3", "TCP_MAXUNACKTIME=50", "SO_KEEPALIVE=1"}},
		"netbsd":    {&netbsd, []string{"TCP_KEEPIDLE=40", "TCP_KEEPINTVL=20", "TCP_KEEPCNT=3", "SO_KEEPALIVE=1"}},
		"openbsd":   {&openbsd, []string{"SO_KEEPALIVE=1"}},
		"illumos":   {&illumos, []string{"TCP_KEEPIDLE=20", "TCP_KEEPINTVL=10", "TCP_KEEPCNT=3", "TCP_ABORT_THRESHOLD=50000", "SO_KEEPALIVE=1"}},
		"solaris":   {&solaris, []string{"TCP_KEEPIDLE=20", "TCP_KEEPINTVL=10", "TCP_KEEPCNT=3", "TCP_ABORT_THRESHOLD=50000", "SO_KEEPALIVE=1"}},
		"legacy":    {&solarisLegacy, []string{"TCP_KEEPALIVE_THRESHOLD=20000", "TCP_KEEPALIVE_ABORT_THRESHOLD=30000", "TCP_ABORT_THRESHOLD=50000", "SO_KEEPALIVE=1"}},
		"aix":       {&aix, []string{"TCP_KEEPIDLE=20", "TCP_KEEPINTVL=10", "TCP_KEEPCNT=3", "SO_KEEPALIVE=1"}},
		"dragonfly": {&dragonfly, []string{"TCP_KEEPIDLE=20", "TCP_KEEPINTVL=10", "TCP_KEEPCNT=3", "SO_KEEPALIVE=1"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.p.rearmIdle {
				// The table says the kernel takes the idle time only
				// with keepalive on.
				tc.want = append(tc.want, tc.want[0])
			}
			r := &recorder{}
			err := applyOn(t, tc.p, cfg, r)
			assert.Equal(t, tc.want, r.calls)
			var ue *UnsupportedError
			if errors.As(err, &ue) {
				assert.True(t, ue.Enabled)
				for k := range numKnobs {
					assert.Equal(t, tc.p.knobs[k].name == "", ue.Missing&fieldOf(k) != 0, "%s missing", fieldNames[k])
				}
			} else {
				require.NoError(t, err)
			}
		})
	}
}

// A table whose kernel takes the idle time only with keepalive on gets it
// set again after SO_KEEPALIVE, which still comes after every timing: the
// value asked, or the socket's own where the Config leaves Idle alone.
func TestSetAllRearmIdle(t *testing.T) {
	require.True(t, darwin.rearmIdle)
	r := &recorder{}
	require.NoError(t, applyOn(t, &darwin, Config{Idle: 20 * time.Second, Count: 3}, r))
	assert.Equal(t, []string{"TCP_KEEPALIVE=20", "TCP_KEEPCNT=3", "SO_KEEPALIVE=1", "TCP_KEEPALIVE=20"}, r.calls)

	r = &recorder{values: map[string]int{"TCP_KEEPALIVE": 7200}}
	require.NoError(t, applyOn(t, &darwin, Config{Count: 3}, r))
	assert.Equal(t, []string{"TCP_KEEPCNT=3", "SO_KEEPALIVE=1", "get TCP_KEEPALIVE", "TCP_KEEPALIVE=7200"}, r.calls)

	// A refused timing still leaves keepalive off.
	r = &recorder{fail: map[string]error{"TCP_KEEPCNT": syscall.EINVAL}}
	require.Error(t, applyOn(t, &darwin, Config{Idle: 20 * time.Second, Count: 3}, r))
	assert.Equal(t, []string{"TCP_KEEPALIVE=20", "TCP_KEEPCNT=3"}, r.calls)
}

// Windows: the ioctl sets Idle and Interval together and switches
// keepalive on, before TCP_KEEPCNT, which the ioctl would reset on 1703 to
// 1708 (as socket2 orders them).
func TestSetAllWindowsIoctlFirst(t *testing.T) {
	cfg := Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 4, UserTimeout: 3 * time.Second}
	p := win1703.platform()
	r := &recorder{}
	require.NoError(t, applyOn(t, &p, cfg, r))
	assert.Equal(t, []string{"together [Idle=5 Interval=2]", "TCP_KEEPCNT=4", "TCP_MAXRTMS=3000"}, r.calls, "no SO_KEEPALIVE: the ioctl switched it on")

	// Nothing for the ioctl: SO_KEEPALIVE switches keepalive on, last.
	r = &recorder{}
	require.NoError(t, applyOn(t, &p, Config{Count: 4}, r))
	assert.Equal(t, []string{"TCP_KEEPCNT=4", "SO_KEEPALIVE=1"}, r.calls)

	// The per-socket options of 1709 and later: no ioctl.
	modern := winsockModern.platform()
	r = &recorder{}
	require.NoError(t, applyOn(t, &modern, cfg, r))
	assert.Equal(t, []string{"TCP_KEEPIDLE=5", "TCP_KEEPINTVL=2", "TCP_KEEPCNT=4", "TCP_MAXRTMS=3000", "SO_KEEPALIVE=1"}, r.calls)

	// Without TCP_KEEPCNT the count is missing: the rest is set.
	ioctl := winIoctl.platform()
	r = &recorder{}
	err := applyOn(t, &ioctl, cfg, r)
	assert.Equal(t, []string{"together [Idle=5 Interval=2]"}, r.calls)
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, UnsupportedError{OS: "windows", Set: FieldIdle | FieldInterval, Missing: FieldCount | FieldUserTimeout, Enabled: true, why: whyNoOption}, *ue)
}

// A value the OS refuses stops the sequence before SO_KEEPALIVE.
func TestSetAllRefusedLeavesKeepaliveOff(t *testing.T) {
	r := &recorder{fail: map[string]error{"TCP_KEEPCNT": syscall.EINVAL}}
	err := applyOn(t, &linux, Config{Idle: 20 * time.Second, Count: 3, UserTimeout: time.Second}, r)
	assert.Equal(t, []string{"TCP_KEEPIDLE=20", "TCP_KEEPCNT=3"}, r.calls)
	var oe *OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, OptionError{Op: "set", Option: "TCP_KEEPCNT", Value: 3, Err: syscall.EINVAL}, *oe)
	assert.NotErrorIs(t, err, ErrUnsupported)
}

// An option this socket lacks is skipped and named; the rest is set and
// keepalive switched on.
func TestSetAllSocketLacksOption(t *testing.T) {
	r := &recorder{fail: map[string]error{"TCP_USER_TIMEOUT": errors.ErrUnsupported}}
	err := applyOn(t, &linux, Config{Idle: 20 * time.Second, UserTimeout: time.Second}, r)
	assert.Equal(t, []string{"TCP_KEEPIDLE=20", "TCP_USER_TIMEOUT=1000", "SO_KEEPALIVE=1"}, r.calls)
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, FieldIdle, ue.Set)
	assert.Equal(t, FieldUserTimeout, ue.Missing)
	assert.True(t, ue.Enabled)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.EqualError(t, err, "keepalive: linux cannot set UserTimeout on this socket (set: Idle): set TCP_USER_TIMEOUT=1000: unsupported operation")
}

// Get reads every knob it can and names the others in Unknown, with no
// error: what the table has no option for, what it cannot read back, and
// what this socket lacks.
func TestGetAllUnknownPerOS(t *testing.T) {
	vals := map[string]int{"SO_KEEPALIVE": 1, "TCP_KEEPIDLE": 20, "TCP_KEEPINTVL": 10, "TCP_KEEPCNT": 3, "TCP_USER_TIMEOUT": 500, "TCP_MAXRT": -1, "TCP_MAXRTMS": 7000, "TCP_MAXUNACKTIME": 40}
	ioctl, v1703, old, modern := winIoctl.platform(), win1703.platform(), winOld.platform(), winsockModern.platform()
	cases := map[string]struct {
		p       *platform
		fail    map[string]error
		want    Config
		unknown Fields
	}{
		"linux":           {&linux, nil, Config{Idle: 20 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: 500 * time.Millisecond}, 0},
		"linux MPTCP":     {&linux, map[string]error{"TCP_USER_TIMEOUT": errors.ErrUnsupported}, Config{Idle: 20 * time.Second, Interval: 10 * time.Second, Count: 3}, FieldUserTimeout},
		"freebsd 14":      {&freebsd, nil, Config{Idle: 20 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: 40 * time.Second}, 0},
		"freebsd 13":      {&freebsd, map[string]error{"TCP_MAXUNACKTIME": errors.ErrUnsupported}, Config{Idle: 20 * time.Second, Interval: 10 * time.Second, Count: 3}, FieldUserTimeout},
		"openbsd":         {&openbsd, nil, Config{}, FieldIdle | FieldInterval | FieldCount | FieldUserTimeout},
		"solaris legacy":  {&solarisLegacy, nil, Config{UserTimeout: 0}, FieldInterval | FieldCount},
		"windows ioctl":   {&ioctl, nil, Config{}, FieldIdle | FieldInterval | FieldCount | FieldUserTimeout},
		"windows 1703":    {&v1703, nil, Config{Count: 3, UserTimeout: 7 * time.Second}, FieldIdle | FieldInterval},
		"windows old":     {&old, nil, Config{}, FieldIdle | FieldInterval | FieldCount},
		"windows modern":  {&modern, nil, Config{Idle: 20 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: 7 * time.Second}, 0},
		"wine 10 (no RT)": {&modern, map[string]error{"TCP_MAXRTMS": errors.ErrUnsupported}, Config{Idle: 20 * time.Second, Interval: 10 * time.Second, Count: 3}, FieldUserTimeout},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := recording(t, &recorder{values: vals, fail: tc.fail})
			var s State
			require.NoError(t, getAll(tc.p, 0, &s))
			assert.Equal(t, State{Enabled: true, Config: tc.want, Unknown: tc.unknown}, s)
			assert.Equal(t, "get SO_KEEPALIVE", r.calls[0])
		})
	}

	// Any other failure is an error naming the option.
	recording(t, &recorder{values: vals, fail: map[string]error{"TCP_KEEPCNT": syscall.EBADF}})
	var s State
	err := getAll(&linux, 0, &s)
	var oe *OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "TCP_KEEPCNT", oe.Option)
}

// Where the OS has no per-socket keepalive at all, the shortfall says that
// nothing was applied, even for a zero Config, and a helper built with it
// takes that at every socket.
func TestNothingApplied(t *testing.T) {
	none := &platform{goos: "plan9", noKeepalive: true}
	for _, cfg := range []Config{{}, {Idle: time.Second, Count: 3}} {
		v, err := cfg.values(none)
		require.NoError(t, err)
		err = v.shortfall(none, 0, nil)
		var ue *UnsupportedError
		require.ErrorAs(t, err, &ue, "%+v", cfg)
		assert.False(t, ue.Enabled)
		assert.Equal(t, fieldsOf(&v.missing), ue.Missing)
		assert.ErrorIs(t, err, errors.ErrUnsupported)
		assert.EqualError(t, err, "keepalive: plan9 has no per-socket TCP keepalive: nothing applied")
		assert.True(t, tolerated(err, err), "a helper takes what it announced")
		assert.False(t, tolerated(err, nil))
	}
	var ue *UnsupportedError
	require.ErrorAs(t, nothingDone(none, FieldIdle, true), &ue)
	assert.EqualError(t, ue, "keepalive: plan9 has no per-socket TCP keepalive: nothing read")

	// A helper that announced keepalive on does not take a socket where
	// it is off, nor a field it did not name.
	on := &UnsupportedError{OS: "linux", Set: FieldIdle, Missing: FieldUserTimeout, Enabled: true, why: whyNotHere}
	assert.True(t, tolerated(on, on))
	assert.False(t, tolerated(&UnsupportedError{Missing: FieldUserTimeout}, on))
	assert.False(t, tolerated(&UnsupportedError{Missing: FieldCount, Enabled: true}, on))
	assert.False(t, tolerated(syscall.EINVAL, on))
}
