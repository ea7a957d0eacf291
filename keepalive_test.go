//go:build linux

package keepalive

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// systemDefaults reads the kernel's defaults for a new socket.
func systemDefaults(t testing.TB) Config {
	t.Helper()
	read := func(name string) int {
		b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_keepalive_" + name)
		require.NoError(t, err)
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		require.NoError(t, err)
		return n
	}
	return Config{
		Idle:     time.Duration(read("time")) * time.Second,
		Interval: time.Duration(read("intvl")) * time.Second,
		Count:    read("probes"),
	}
}

// getRaw is Get for a socket not yet known to be TCP, such as a
// listener's.
func getRaw(rc syscall.RawConn) (State, error) {
	op := sockOp{kind: opGet, check: true}
	err := op.onRaw(rc)
	return op.s, err
}

func mustGet(t testing.TB, conn net.Conn) State {
	t.Helper()
	s, err := Get(conn)
	require.NoError(t, err)
	return s
}

func TestGetFreshSocketHoldsSystemDefaults(t *testing.T) {
	c, _ := pair(t)
	s := mustGet(t, c)
	assert.Equal(t, State{Enabled: false, Config: systemDefaults(t)}, s)
}

func TestApplyReadsBack(t *testing.T) {
	cfg := Config{Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4, UserTimeout: 1500 * time.Millisecond}
	c, s := pair(t)
	for _, conn := range []*net.TCPConn{c, s} {
		require.NoError(t, cfg.Apply(conn))
		assert.Equal(t, State{Enabled: true, Config: cfg}, mustGet(t, conn))
	}
}

func TestApplyRoundsUpLikeGo(t *testing.T) {
	cases := []struct {
		in, want time.Duration
	}{
		{time.Millisecond, time.Second},
		{1500 * time.Millisecond, 2 * time.Second},
		{time.Second, time.Second},
		{time.Second + 1, 2 * time.Second},
	}
	for _, tc := range cases {
		ours, _ := pair(t)
		gos, _ := pair(t)
		require.NoError(t, Config{Idle: tc.in, Interval: tc.in}.Apply(ours))
		require.NoError(t, gos.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: tc.in, Interval: tc.in, Count: -1}))
		got, want := mustGet(t, ours), mustGet(t, gos)
		assert.Equal(t, tc.want, got.Config.Idle, "Idle %v", tc.in)
		assert.Equal(t, tc.want, got.Config.Interval, "Interval %v", tc.in)
		assert.Equal(t, want, got, "same as SetKeepAliveConfig for %v", tc.in)
	}

	c, _ := pair(t)
	require.NoError(t, Config{UserTimeout: 1500 * time.Microsecond}.Apply(c))
	assert.Equal(t, 2*time.Millisecond, mustGet(t, c).Config.UserTimeout)
}

func TestZeroFieldLeavesValueAlone(t *testing.T) {
	c, _ := pair(t)
	require.NoError(t, Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3, UserTimeout: time.Second}.Apply(c))
	require.NoError(t, Config{Count: 6}.Apply(c))
	assert.Equal(t, State{Enabled: true, Config: Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 6, UserTimeout: time.Second}}, mustGet(t, c))

	// A zero Config only turns keepalive on, with the OS defaults.
	fresh, _ := pair(t)
	require.NoError(t, Config{}.Apply(fresh))
	assert.Equal(t, State{Enabled: true, Config: systemDefaults(t)}, mustGet(t, fresh))
}

func TestInvalidConfigChangesNothing(t *testing.T) {
	cases := []struct {
		cfg  Config
		text string
	}{
		{Config{Idle: -time.Second}, "keepalive: Idle=-1s is negative"},
		{Config{Interval: -1}, "keepalive: Interval=-1ns is negative"},
		{Config{Count: -1}, "keepalive: Count=-1 is negative"},
		{Config{UserTimeout: -time.Millisecond}, "keepalive: UserTimeout=-1ms is negative"},
		{Config{Idle: 32768 * time.Second}, "keepalive: Idle=9h6m8s out of range for TCP_KEEPIDLE on linux (1s..9h6m7s)"},
		{Config{Idle: 32767*time.Second + 1}, "keepalive: Idle=9h6m7.000000001s out of range for TCP_KEEPIDLE on linux (1s..9h6m7s)"},
		{Config{Interval: time.Duration(1<<63 - 1)}, "TCP_KEEPINTVL"},
		{Config{Count: 128}, "keepalive: Count=128 out of range for TCP_KEEPCNT on linux (1..127)"},
		{Config{Count: 200}, "Count=200"},
		{Config{UserTimeout: (1<<31)*time.Millisecond + 1}, "for TCP_USER_TIMEOUT on linux (1ms..596h31m23.647s)"},
		// Valid fields before the bad one must not be applied either.
		{Config{Idle: time.Second, Interval: time.Second, Count: 128}, "Count=128"},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			err := tc.cfg.Validate()
			require.ErrorIs(t, err, ErrOutOfRange)
			assert.Contains(t, err.Error(), tc.text)
			var re *RangeError
			require.ErrorAs(t, err, &re)

			c, _ := pair(t)
			before := mustGet(t, c)
			require.ErrorIs(t, tc.cfg.Apply(c), ErrOutOfRange)
			rc, err := c.SyscallConn()
			require.NoError(t, err)
			require.ErrorIs(t, tc.cfg.ApplyRawConn(rc), ErrOutOfRange)
			require.ErrorIs(t, tc.cfg.Control("tcp", "", rc), ErrOutOfRange)
			assert.Equal(t, before, mustGet(t, c), "socket changed by an invalid Config")
		})
	}
}

// Go's own SetKeepAliveConfig enables keepalive and sets the timings one by
// one, so a bad Count fails after the rest has been applied. Apply checks
// first. This test fails if Go ever makes its own call atomic, which would
// be worth knowing.
func TestApplyIsAtomicWhereGoIsNot(t *testing.T) {
	bad := Config{Idle: 9 * time.Second, Interval: 9 * time.Second, Count: 200}

	gos, _ := pair(t)
	err := gos.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: bad.Idle, Interval: bad.Interval, Count: bad.Count})
	require.ErrorIs(t, err, syscall.EINVAL)
	half := mustGet(t, gos)
	assert.True(t, half.Enabled)
	assert.Equal(t, 9*time.Second, half.Config.Idle, "Go applied Idle before failing on Count")

	ours, _ := pair(t)
	before := mustGet(t, ours)
	require.ErrorIs(t, bad.Apply(ours), ErrOutOfRange)
	assert.Equal(t, before, mustGet(t, ours))
}

func TestOSErrorNamesOptionAndValue(t *testing.T) {
	// Bypass validation to see what the kernel itself says.
	c, _ := pair(t)
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	v := values{}
	v.v[count], v.set[count] = 200, true
	var opErr error
	require.NoError(t, rc.Control(func(fd uintptr) { opErr = setAll(native, fd, &v) }))
	require.EqualError(t, opErr, "keepalive: set TCP_KEEPCNT=200: invalid argument")
	require.ErrorIs(t, opErr, syscall.EINVAL)
	var oe *OptionError
	require.ErrorAs(t, opErr, &oe)
	assert.Equal(t, OptionError{Op: "set", Option: "TCP_KEEPCNT", Value: 200, Err: syscall.EINVAL}, *oe)
	assert.False(t, mustGet(t, c).Enabled, "keepalive switched on although a timing was refused")
}

// netConnWrapper is a connection wrapper like *tls.Conn: it exposes the
// connection below it through NetConn.
type netConnWrapper struct{ net.Conn }

func (w netConnWrapper) NetConn() net.Conn { return w.Conn }

// syscallOnly hides everything but the socket: a syscall.Conn that is not a
// *net.TCPConn, so the socket type has to be checked.
type syscallOnly struct {
	net.Conn
	sc syscall.Conn
}

func (s syscallOnly) SyscallConn() (syscall.RawConn, error) { return s.sc.SyscallConn() }

func TestWhichConns(t *testing.T) {
	cfg := Config{Idle: 3 * time.Second, Interval: time.Second, Count: 2}
	want := State{Enabled: true, Config: cfg}

	t.Run("tls.Conn", func(t *testing.T) {
		c, _ := pair(t)
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		require.NoError(t, cfg.Apply(tc))
		assert.Equal(t, want, mustGet(t, tc))
		assert.Equal(t, want, mustGet(t, c))
	})
	t.Run("nested NetConn", func(t *testing.T) {
		c, _ := pair(t)
		w := netConnWrapper{netConnWrapper{tls.Client(c, &tls.Config{})}}
		require.NoError(t, cfg.Apply(w))
		assert.Equal(t, want, mustGet(t, w))
		require.NoError(t, Disable(w))
		assert.False(t, mustGet(t, c).Enabled)
	})
	t.Run("syscall.Conn over TCP", func(t *testing.T) {
		c, _ := pair(t)
		s := syscallOnly{c, c}
		require.NoError(t, cfg.Apply(s))
		assert.Equal(t, want, mustGet(t, s))
		require.NoError(t, Disable(s))
		assert.False(t, mustGet(t, c).Enabled)
	})
	t.Run("IPv6", func(t *testing.T) {
		ln, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback here: %v", err)
		}
		defer ln.Close()
		c, _ := dialAccept(t, ln, &net.Dialer{})
		require.NoError(t, cfg.Apply(c))
		assert.Equal(t, want, mustGet(t, c))
	})

	notTCP := map[string]net.Conn{}
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer udp.Close()
	notTCP["UDP"] = udp.(*net.UDPConn)
	notTCP["UDP behind syscall.Conn"] = syscallOnly{udp.(*net.UDPConn), udp.(*net.UDPConn)}
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	notTCP["net.Pipe"] = p1
	unixPath := t.TempDir() + "/s"
	ul, err := net.Listen("unix", unixPath)
	require.NoError(t, err)
	defer ul.Close()
	uc, err := net.Dial("unix", unixPath)
	require.NoError(t, err)
	defer uc.Close()
	notTCP["unix"] = uc
	notTCP["nil"] = nil
	notTCP["nil *net.TCPConn"] = (*net.TCPConn)(nil)
	notTCP["nil *tls.Conn"] = (*tls.Conn)(nil)
	notTCP["tls over pipe"] = tls.Client(p1, &tls.Config{})

	for name, conn := range notTCP {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, cfg.Apply(conn), ErrNotTCP)
			_, err := Get(conn)
			assert.ErrorIs(t, err, ErrNotTCP)
			assert.ErrorIs(t, Disable(conn), ErrNotTCP)
		})
	}

	t.Run("raw UDP", func(t *testing.T) {
		rc, err := udp.(*net.UDPConn).SyscallConn()
		require.NoError(t, err)
		require.ErrorIs(t, cfg.ApplyRawConn(rc), ErrNotTCP)
		require.ErrorIs(t, cfg.ApplyRawConn(nil), ErrNotTCP)
	})
}

func TestClosedConn(t *testing.T) {
	c, _ := pair(t)
	require.NoError(t, c.Close())
	assert.ErrorIs(t, Config{Idle: time.Second}.Apply(c), net.ErrClosed)
	_, err := Get(c)
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.ErrorIs(t, Disable(c), net.ErrClosed)
	assert.ErrorIs(t, Config{}.Apply(netConnWrapper{c}), net.ErrClosed)
}

func TestDisableKeepsTimings(t *testing.T) {
	c, _ := pair(t)
	cfg := Config{Idle: 4 * time.Second, Interval: 2 * time.Second, Count: 3}
	require.NoError(t, cfg.Apply(c))
	require.NoError(t, Disable(c))
	assert.Equal(t, State{Enabled: false, Config: cfg}, mustGet(t, c))
	require.NoError(t, Config{}.Apply(c))
	assert.Equal(t, State{Enabled: true, Config: cfg}, mustGet(t, c))
}

func TestControlRejectsOtherNetworks(t *testing.T) {
	c, _ := pair(t)
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	for _, network := range []string{"udp", "unix", "ip4:icmp"} {
		assert.ErrorIs(t, Config{}.Control(network, "", rc), ErrNotTCP, network)
	}
}

func TestDialer(t *testing.T) {
	cfg := Config{Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4, UserTimeout: 2 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	t.Run("nil base", func(t *testing.T) {
		c, _ := dialAccept(t, ln, mustDialer(t, cfg, nil))
		assert.Equal(t, State{Enabled: true, Config: cfg}, mustGet(t, c))
	})
	t.Run("base with Go keepalive and Control", func(t *testing.T) {
		calls := 0
		base := &net.Dialer{
			KeepAlive: 30 * time.Second,
			Timeout:   5 * time.Second,
			Control: func(network, address string, rc syscall.RawConn) error {
				calls++
				return nil
			},
		}
		d := mustDialer(t, cfg, base)
		assert.Equal(t, 5*time.Second, d.Timeout, "base fields kept")
		assert.Equal(t, 30*time.Second, base.KeepAlive, "base left alone")
		c, _ := dialAccept(t, ln, d)
		assert.Equal(t, State{Enabled: true, Config: cfg}, mustGet(t, c))
		assert.Equal(t, 1, calls, "base Control chained")
	})
	t.Run("base ControlContext error stops the dial", func(t *testing.T) {
		boom := errors.New("boom")
		d := mustDialer(t, cfg, &net.Dialer{ControlContext: func(context.Context, string, string, syscall.RawConn) error { return boom }})
		_, err := d.Dial("tcp", ln.Addr().String())
		assert.ErrorIs(t, err, boom)
	})
	t.Run("invalid config is refused when built", func(t *testing.T) {
		d, err := Config{Count: 1000}.Dialer(nil)
		assert.ErrorIs(t, err, ErrOutOfRange)
		var re *RangeError
		assert.ErrorAs(t, err, &re)
		assert.Nil(t, d)
	})
}

func TestListenConfig(t *testing.T) {
	cfg := Config{Idle: 6 * time.Second, Interval: 2 * time.Second, Count: 5}
	calls := 0
	lc := mustListenConfig(t, cfg, &net.ListenConfig{Control: func(string, string, syscall.RawConn) error { calls++; return nil }})
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	assert.Equal(t, 1, calls)
	for range 3 {
		_, s := dialAccept(t, ln, &net.Dialer{KeepAlive: -1})
		assert.Equal(t, State{Enabled: true, Config: cfg}, mustGet(t, s))
	}
}

// withoutInheritance pretends, for one test, that this OS does not copy
// knob k from a listener to accepted sockets, as some OSes do not, to test
// the listener helpers' per-connection path with the real kernel.
func withoutInheritance(t *testing.T, k knob) {
	saved := native
	p := *native
	p.knobs[k].inherited = false
	native = &p
	t.Cleanup(func() { native = saved })
}

func TestListenersWhereNotInherited(t *testing.T) {
	withoutInheritance(t, userTimeout)
	cfg := Config{Idle: 6 * time.Second, Interval: 2 * time.Second, Count: 5, UserTimeout: 3 * time.Second}

	// ListenConfig sets the rest on the listener and names what accepted
	// sockets will not hold.
	lc, err := cfg.ListenConfig(nil)
	require.ErrorIs(t, err, ErrUnsupported)
	assert.EqualError(t, err, "keepalive: linux: accepted sockets do not inherit UserTimeout from their listener (set: Idle, Interval, Count); use Config.Listen or Config.Listener")
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, FieldUserTimeout, ue.Missing)
	assert.Equal(t, FieldIdle|FieldInterval|FieldCount, ue.Set)
	require.NotNil(t, lc, "a working ListenConfig comes with the error")
	partial, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer partial.Close()
	_, s := dialAccept(t, partial, &net.Dialer{KeepAlive: -1})
	assert.Equal(t, State{Enabled: true, Config: Config{Idle: 6 * time.Second, Interval: 2 * time.Second, Count: 5}}, mustGet(t, s))

	// Listen now leaves UserTimeout off the listener and sets it on each
	// accepted socket instead.
	// A plain TCP listener, so that getsockopt can read its user timeout:
	// an MPTCP listener (Go's default) does not report it.
	base := &net.ListenConfig{}
	base.SetMultipathTCP(false)
	ln, err := cfg.Listen(context.Background(), base, "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, ok := ln.(*listener)
	require.True(t, ok, "Listen returned no per-connection wrapper")
	_, s = dialAccept(t, ln, &net.Dialer{KeepAlive: -1})
	assert.Equal(t, State{Enabled: true, Config: cfg}, mustGet(t, s))
	rc, err := ln.(*listener).Listener.(*net.TCPListener).SyscallConn()
	require.NoError(t, err)
	l, err := getRaw(rc)
	require.NoError(t, err)
	assert.Zero(t, l.Config.UserTimeout, "UserTimeout set on the listener")
}

func TestListen(t *testing.T) {
	for _, cfg := range []Config{
		{Idle: 6 * time.Second, Interval: 2 * time.Second, Count: 5},
		{Idle: 6 * time.Second, Interval: 2 * time.Second, Count: 5, UserTimeout: 3 * time.Second},
	} {
		ln, err := cfg.Listen(context.Background(), nil, "tcp", "127.0.0.1:0")
		require.NoError(t, err)
		for range 3 {
			_, s := dialAccept(t, ln, &net.Dialer{KeepAlive: -1})
			assert.Equal(t, State{Enabled: true, Config: cfg}, mustGet(t, s))
		}
		ln.Close()
	}
	_, err := Config{Count: -1}.Listen(context.Background(), nil, "tcp", "127.0.0.1:0")
	assert.ErrorIs(t, err, ErrOutOfRange)
}

func TestListener(t *testing.T) {
	cfg := Config{Idle: 6 * time.Second, Interval: 2 * time.Second, Count: 5, UserTimeout: 3 * time.Second}
	plain, err := net.Listen("tcp", "127.0.0.1:0") // Go sets its 15 s default on every accept
	require.NoError(t, err)
	ln, err := cfg.Listener(plain)
	require.NoError(t, err)
	defer ln.Close()
	_, s := dialAccept(t, ln, &net.Dialer{})
	assert.Equal(t, State{Enabled: true, Config: cfg}, mustGet(t, s))
	assert.Same(t, plain, ln.(interface{ Unwrap() net.Listener }).Unwrap())

	bad, err := Config{Count: 500}.Listener(plain)
	assert.ErrorIs(t, err, ErrOutOfRange, "validated when built")
	assert.Nil(t, bad)
}

// The listener helpers rely on which options an accepted socket copies from
// its listener. This checks the table against the running kernel, one knob
// at a time.
func TestInheritanceMatchesKernel(t *testing.T) {
	for _, mptcp := range []bool{false, true} {
		t.Run(map[bool]string{false: "TCP", true: "MPTCP"}[mptcp], func(t *testing.T) {
			testInheritance(t, mptcp)
		})
	}
}

func testInheritance(t *testing.T, mptcp bool) {
	cfg := Config{Idle: 11 * time.Second, Interval: 7 * time.Second, Count: 5, UserTimeout: 3 * time.Second}
	v, err := cfg.values(native)
	require.NoError(t, err)
	for k := range numKnobs {
		t.Run(fieldNames[k], func(t *testing.T) {
			var one values
			one.v[k], one.set[k] = v.v[k], true
			lc := net.ListenConfig{KeepAlive: -1, Control: func(_, _ string, rc syscall.RawConn) error {
				var opErr error
				if err := rc.Control(func(fd uintptr) { opErr = setAll(native, fd, &one) }); err != nil {
					return err
				}
				return opErr
			}}
			lc.SetMultipathTCP(mptcp)
			ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			d := &net.Dialer{KeepAlive: -1}
			d.SetMultipathTCP(mptcp)
			_, s := dialAccept(t, ln, d)
			got, err := Get(s)
			// Linux has no TCP_USER_TIMEOUT on a real MPTCP
			// socket: setting it fails with ENOPROTOOPT, which makes Go
			// fall back to a plain TCP listener, and Get on an MPTCP
			// connection says it cannot read it.
			require.NoError(t, err)
			if mptcp && k != userTimeout {
				assert.Equal(t, FieldUserTimeout, got.Unknown, "MPTCP socket reports no user timeout")
			} else {
				assert.Zero(t, got.Unknown)
			}
			assert.True(t, got.Enabled, "SO_KEEPALIVE inherited")
			var want State
			want.Config.setField(k, fromUnit(v.v[k], native.knobs[k].unit))
			fields := map[knob]bool{
				idle:        got.Config.Idle == want.Config.Idle,
				interval:    got.Config.Interval == want.Config.Interval,
				count:       got.Config.Count == want.Config.Count,
				userTimeout: got.Config.UserTimeout == want.Config.UserTimeout,
			}
			assert.Equal(t, native.knobs[k].inherited, fields[k], "inherited flag of %s", native.knobs[k].name)
		})
	}
}

func TestKeepAliveConfigConversion(t *testing.T) {
	cfg := Config{Idle: 5 * time.Second, Count: 3, UserTimeout: time.Second}
	k := cfg.KeepAliveConfig()
	assert.Equal(t, net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: -1, Count: 3}, k)

	// Applied through Go, the converted value leaves Interval alone too.
	c, _ := pair(t)
	require.NoError(t, c.SetKeepAliveConfig(k))
	assert.Equal(t, State{Enabled: true, Config: Config{Idle: 5 * time.Second, Interval: systemDefaults(t).Interval, Count: 3}}, mustGet(t, c))

	assert.Equal(t, Config{Idle: 15 * time.Second, Interval: 15 * time.Second, Count: 9}, FromKeepAliveConfig(net.KeepAliveConfig{Enable: true}))
	assert.Equal(t, Config{Idle: 2 * time.Second}, FromKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 2 * time.Second, Interval: -1, Count: -1}))

	// Whatever Go applies for a KeepAliveConfig, the converted Config applies too.
	for _, k := range []net.KeepAliveConfig{
		{Enable: true},
		{Enable: true, Idle: 1500 * time.Millisecond, Interval: -1, Count: 4},
		{Enable: true, Idle: -1, Interval: 3 * time.Second, Count: 0},
	} {
		gos, _ := pair(t)
		ours, _ := pair(t)
		require.NoError(t, gos.SetKeepAliveConfig(k))
		require.NoError(t, FromKeepAliveConfig(k).Apply(ours))
		assert.Equal(t, mustGet(t, gos), mustGet(t, ours), "%+v", k)
	}
}

func TestErrUnsupportedMatchesStandard(t *testing.T) {
	assert.ErrorIs(t, ErrUnsupported, errors.ErrUnsupported)
	v := values{}
	v.missing[count] = true
	v.v[idle], v.set[idle] = 5, true
	err := v.shortfall(&platform{goos: "freebsd"}, 0, nil)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.EqualError(t, err, "keepalive: freebsd has no per-socket option for Count (set: Idle)")
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, UnsupportedError{OS: "freebsd", Set: FieldIdle, Missing: FieldCount, Enabled: true, why: whyNoOption}, *ue)
	assert.NoError(t, (&values{}).shortfall(&linux, 0, nil))
}

func TestZeroAllocations(t *testing.T) {
	c, _ := pair(t)
	cfg := Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = cfg.Apply(c) }), "Apply")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Get(c) }), "Get")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = Disable(c) }), "Disable")
}

// mptcpPair returns both ends of a real Multipath TCP connection, or skips
// if this kernel has none.
func mptcpPair(t *testing.T) (client, server *net.TCPConn) {
	lc := net.ListenConfig{KeepAlive: -1}
	lc.SetMultipathTCP(true)
	ln, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	d := &net.Dialer{KeepAlive: -1}
	d.SetMultipathTCP(true)
	client, server = dialAccept(t, ln, d)
	if ok, err := client.MultipathTCP(); err != nil || !ok {
		t.Skipf("no Multipath TCP on this kernel (%v)", err)
	}
	return client, server
}

// A real MPTCP connection has no TCP_USER_TIMEOUT: Apply sets the rest,
// switches keepalive on and names what it could not set.
func TestApplyOnMPTCP(t *testing.T) {
	client, server := mptcpPair(t)
	cfg := Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3, UserTimeout: 11 * time.Second}
	err := cfg.Apply(client)
	require.ErrorIs(t, err, ErrUnsupported)
	require.ErrorIs(t, err, syscall.ENOPROTOOPT)
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, FieldIdle|FieldInterval|FieldCount, ue.Set)
	assert.Equal(t, FieldUserTimeout, ue.Missing)
	assert.True(t, ue.Enabled)
	assert.ErrorContains(t, err, "keepalive: linux cannot set UserTimeout on this socket (set: Idle, Interval, Count): set TCP_USER_TIMEOUT=11000")
	s, err := Get(client)
	require.NoError(t, err, "Get read all this socket can report")
	assert.Equal(t, State{Enabled: true, Config: Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}, Unknown: FieldUserTimeout}, s)

	require.NoError(t, Config{Idle: 5 * time.Second}.Apply(server), "nothing it lacks was asked for")
}

// A listener wrapper hands on an MPTCP connection that lacks an option
// instead of dropping the client.
func TestListenerOnMPTCP(t *testing.T) {
	mptcpPair(t) // skips without MPTCP
	cfg := Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3, UserTimeout: 11 * time.Second}
	lc := net.ListenConfig{}
	lc.SetMultipathTCP(true)
	plain, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	ln, err := cfg.Listener(plain)
	require.NoError(t, err, "no listener can know beforehand which clients come with MPTCP")
	defer ln.Close()
	d := &net.Dialer{}
	d.SetMultipathTCP(true)
	_, s := dialAccept(t, ln, d)
	got, err := Get(s)
	require.NoError(t, err)
	assert.Equal(t, State{Enabled: true, Config: Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}, Unknown: FieldUserTimeout}, got)
}

// nilSocket is a syscall.Conn with no socket behind it.
type nilSocket struct{ net.Conn }

func (nilSocket) SyscallConn() (syscall.RawConn, error) { return nil, nil }

func TestNoSocketNeverPanics(t *testing.T) {
	c, _ := pair(t)
	conn := nilSocket{c}
	assert.ErrorIs(t, Config{}.Apply(conn), ErrNotTCP)
	_, err := Get(conn)
	assert.ErrorIs(t, err, ErrNotTCP)
	assert.ErrorIs(t, Disable(conn), ErrNotTCP)
	assert.ErrorIs(t, Config{}.Control("tcp", "", nil), ErrNotTCP)
	assert.ErrorIs(t, Config{}.ApplyRawConn(nil), ErrNotTCP)
}

// A router's ICMP unreachable turns the kernel's ETIMEDOUT into
// EHOSTUNREACH or ENETUNREACH: still a dead peer.
func TestIsDeadPeerUnreachable(t *testing.T) {
	assert.True(t, IsDeadPeer(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.EHOSTUNREACH)}))
	assert.True(t, IsDeadPeer(syscall.ENETUNREACH))
	assert.False(t, IsDeadPeer(syscall.ECONNREFUSED))
}

// mustDialer is c.Dialer(base) for a Config this OS can apply in full.
func mustDialer(t testing.TB, c Config, base *net.Dialer) *net.Dialer {
	t.Helper()
	d, err := c.Dialer(base)
	require.NoError(t, err)
	return d
}

// mustListenConfig is c.ListenConfig(base) for a Config this OS can apply
// in full.
func mustListenConfig(t testing.TB, c Config, base *net.ListenConfig) *net.ListenConfig {
	t.Helper()
	lc, err := c.ListenConfig(base)
	require.NoError(t, err)
	return lc
}
