//go:build windows

package keepalive

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// blackholeAddrEnv names the environment variable with the address of a
// peer that accepts connections and then never answers: the
// internal/cmd/blackholed helper, run by .ci/windows-tests.sh.
const blackholeAddrEnv = "KEEPALIVE_BLACKHOLE_ADDR"

// underWine reports whether the test runs under Wine, whose ntdll exports
// wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// wineVersion is Wine's version ("10.0"), "" on Windows itself.
func wineVersion() string {
	proc := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if proc.Find() != nil {
		return ""
	}
	p, _, _ := proc.Call()
	// p points to a C string in Wine's ntdll, not to Go memory.
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&p)))
}

// getReadable is Get for a test that checks the fields this system can
// read back: Get reads them all without an error, and names the others in
// Unknown, as the table says.
func getReadable(t *testing.T, c net.Conn) State {
	t.Helper()
	s, err := Get(c)
	require.NoError(t, err, "Get")
	assert.Equal(t, unknownOn(native), s.Unknown, "Unknown")
	return s
}

// unknownOn is what Get cannot read back on a system with table p: what it
// has no option for, and what the ioctl sets.
func unknownOn(p *platform) Fields {
	var f Fields
	for k := range numKnobs {
		if p.knobs[k].name == "" || p.knobs[k].byIoctl {
			f |= fieldOf(k)
		}
	}
	return f
}

// hostTimer reads, under Wine, the keepalive timer that the Linux kernel
// running Wine holds for conn's socket: how long until the next probe, and
// whether one is armed at all. Wine maps drive Z: to the host's root, so the
// host's /proc/net/tcp shows what Wine really set (through the ioctl, which
// Windows itself cannot read back, or through the per-socket options),
// checked by the host kernel rather than by the Winsock calls under test.
// readable is false elsewhere.
func hostTimer(t *testing.T, conn *net.TCPConn) (left time.Duration, armed, readable bool) {
	t.Helper()
	if !underWine() {
		return 0, false, false
	}
	b, err := os.ReadFile(`Z:\proc\net\tcp`)
	if err != nil {
		t.Logf("cannot read the host's /proc/net/tcp: %v", err)
		return 0, false, false
	}
	// As /proc/net/tcp shows an IPv4 address and port on x86.
	hex := func(a net.Addr) string {
		ta := a.(*net.TCPAddr)
		ip := ta.IP.To4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ta.Port)
	}
	local, remote := hex(conn.LocalAddr()), hex(conn.RemoteAddr())
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != local || f[2] != remote {
			continue
		}
		tr, when, _ := strings.Cut(f[5], ":")
		if tr != "02" { // 2: sk_timer, the keepalive timer
			return 0, false, true
		}
		ticks, err := strconv.ParseUint(when, 16, 64)
		require.NoError(t, err)
		return time.Duration(ticks) * 10 * time.Millisecond, true, true // USER_HZ
	}
	t.Fatalf("no socket %s -> %s in the host's /proc/net/tcp", local, remote)
	return 0, false, false
}

// assertHostTimer checks, where hostTimer can tell, that conn's keepalive
// timer is armed for an idle time of want: due within want, and no sooner
// than want after since, a time before conn last received anything (before
// it was made). Linux counts the idle time from the last segment received,
// not from the setsockopt, so a slow test sees less left, never more.
func assertHostTimer(t *testing.T, conn *net.TCPConn, want time.Duration, since time.Time) {
	t.Helper()
	left, armed, readable := hostTimer(t, conn)
	if !readable {
		t.Log("not under Wine: what the ioctl set cannot be checked")
		return
	}
	idle := time.Since(since) // at least how long conn has been idle
	require.True(t, armed, "no keepalive timer armed on the host socket")
	assert.LessOrEqual(t, left, want, "host keepalive timer")
	// One jiffy (USER_HZ) of rounding in /proc/net/tcp.
	assert.GreaterOrEqual(t, left+10*time.Millisecond, want-idle, "host keepalive timer, %v after the connection was made", idle)
}

// assertNoHostTimer checks, where hostTimer can tell, that conn has no
// keepalive timer armed.
func assertNoHostTimer(t *testing.T, conn *net.TCPConn) {
	t.Helper()
	_, armed, _ := hostTimer(t, conn)
	assert.False(t, armed, "keepalive timer armed on the host socket")
}

func TestWindowsSupport(t *testing.T) {
	t.Logf("wine %q on %q; per-socket options: %+v; table: %+v", wineVersion(), wineHost, support, *native)
	assert.Equal(t, support.platform(), *native)

	// What this system has, found again another way: getsockopt on a
	// connected socket, where detectSupport used setsockopt on a fresh
	// one. An option is missing only if the system says it has no such
	// option.
	c, _ := pair(t)
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	has := func(opt int) (ok bool) {
		require.NoError(t, rc.Control(func(fd uintptr) {
			_, err := windows.GetsockoptInt(windows.Handle(fd), windows.IPPROTO_TCP, opt)
			ok = !errors.Is(err, windows.WSAENOPROTOOPT)
		}))
		return ok
	}
	found := winsockSupport{
		keepIdle:  has(windows.TCP_KEEPIDLE),
		keepIntvl: has(windows.TCP_KEEPINTVL),
		keepCnt:   has(windows.TCP_KEEPCNT),
		maxRTMS:   has(windows.TCP_MAXRTMS),
		maxRT:     has(windows.TCP_MAXRT),
		// Linux's limits apply under Wine on Linux, and only there.
		wineOnLinux: underWine() && wineHost == "Linux",
	}
	assert.Equal(t, found, support, "detected at start-up vs read on a connected socket")
	if underWine() {
		// Wine implements neither retransmission timeout option, and its
		// host (not Winsock) holds the keepalive settings: the other
		// tests check them there too, through hostTimer.
		assert.False(t, support.maxRTMS || support.maxRT, "a Wine with TCP_MAXRT(MS): the UserTimeout tests now run; update the README's Wine rows")
	}
}

func TestWindowsApplyGetDisable(t *testing.T) {
	start := time.Now()
	c, _ := pair(t)
	fresh := getReadable(t, c)
	assert.False(t, fresh.Enabled)

	cfg := Config{Idle: 7 * time.Second, Interval: 3 * time.Second}
	require.NoError(t, cfg.Apply(c))
	s := getReadable(t, c)
	assert.True(t, s.Enabled)
	if support.ioctl() {
		// Nothing can read SIO_KEEPALIVE_VALS back: Get names the fields
		// in Unknown, leaves them zero, and returns no error.
		assert.Equal(t, FieldIdle|FieldInterval|FieldCount, s.Unknown&^FieldUserTimeout)
		assert.Equal(t, Config{}, Config{Idle: s.Config.Idle, Interval: s.Config.Interval, Count: s.Config.Count})
	} else {
		assert.Equal(t, cfg, Config{Idle: s.Config.Idle, Interval: s.Config.Interval})
	}
	assertHostTimer(t, c, 7*time.Second, start)

	require.NoError(t, Disable(c))
	s, _ = Get(c)
	assert.False(t, s.Enabled)
	assertNoHostTimer(t, c)

	// A zero Config turns keepalive back on with the timings it had.
	require.NoError(t, Config{}.Apply(c))
	s, _ = Get(c)
	assert.True(t, s.Enabled)
	assertHostTimer(t, c, 7*time.Second, start)
	if !support.ioctl() {
		s = getReadable(t, c)
		assert.Equal(t, cfg, Config{Idle: s.Config.Idle, Interval: s.Config.Interval})
	}
}

// Without TCP_KEEPCNT nothing sets the probe count: Apply sets the rest and
// says so, never silently.
func TestWindowsCountNeverSilent(t *testing.T) {
	start := time.Now()
	c, _ := pair(t)
	cfg := Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 4}
	err := cfg.Apply(c)
	if support.keepCnt {
		require.NoError(t, err)
		assert.Equal(t, 4, getReadable(t, c).Config.Count)
		assertHostTimer(t, c, 5*time.Second, start)
		return
	}
	require.ErrorIs(t, err, ErrUnsupported)
	require.ErrorIs(t, err, errors.ErrUnsupported)
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.EqualError(t, ue, "keepalive: windows has no per-socket option for Count (set: Idle, Interval)")
	var oe *net.OpError
	require.ErrorAs(t, err, &oe, "the error names the connection")
	assert.Equal(t, c.LocalAddr(), oe.Source)
	assert.Equal(t, UnsupportedError{OS: "windows", Set: FieldIdle | FieldInterval, Missing: FieldCount, Enabled: true, why: whyNoOption}, *ue)
	s, _ := Get(c)
	assert.True(t, s.Enabled, "the rest must be applied")
	if support.ioctl() {
		assertHostTimer(t, c, 5*time.Second, start)
	}

	// UserTimeout as well, where neither TCP_MAXRTMS nor TCP_MAXRT exists.
	if !support.maxRTMS && !support.maxRT {
		err := Config{Idle: 5 * time.Second, Count: 4, UserTimeout: time.Second}.Apply(c)
		require.ErrorAs(t, err, &ue)
		assert.EqualError(t, ue, "keepalive: windows has no per-socket option for Count, UserTimeout (set: Idle)")
	}
	// A Config that needs only what exists is no error.
	require.NoError(t, Config{Idle: 5 * time.Second}.Apply(c))
}

// The ioctl needs Idle and Interval together: a zero one is sent as the
// system default, not as 0.
func TestWindowsZeroFieldFilledFromDefaults(t *testing.T) {
	if !support.ioctl() {
		t.Skip("the per-socket options set Idle and Interval separately here")
	}
	def, err := SystemDefaults()
	require.NoError(t, err)
	start := time.Now()
	c, _ := pair(t)
	require.NoError(t, Config{Interval: 3 * time.Second}.Apply(c))
	if _, _, readable := hostTimer(t, c); !readable {
		t.Skip("what the ioctl set can be read only under Wine, from the host")
	}
	assertHostTimer(t, c, def.Idle, start)
}

// Wine passes the per-socket options, and what the ioctl sets, to the Linux
// socket under it, so Linux's smaller limits apply there. The table carries
// them: a value Windows would take and Linux refuses is a *RangeError before
// any system call, so that nothing is half-applied (Linux would refuse it
// after Wine had set the fields before it, and Wine 8's ioctl switches
// keepalive on first and ignores a refused interval).
func TestWindowsWineHostLimits(t *testing.T) {
	if wineHost != "Linux" {
		t.Skipf("only under Wine on Linux (wine %q on %q)", wineVersion(), wineHost)
	}
	require.True(t, support.wineOnLinux, "Wine on Linux not detected")
	type limitCase struct {
		cfg                  Config
		field, option, limit string
	}
	cases := []limitCase{
		{Config{Idle: 32768 * time.Second}, "Idle", native.knobs[idle].name, "1s..9h6m7s"},
		{Config{Idle: 5 * time.Second, Interval: 40000 * time.Second}, "Interval", native.knobs[interval].name, "1s..9h6m7s"},
	}
	if support.keepCnt {
		cases = append(cases,
			limitCase{Config{Idle: 5 * time.Second, Count: 128}, "Count", "TCP_KEEPCNT", "1..127"},
			limitCase{Config{Idle: 5 * time.Second, Count: 255}, "Count", "TCP_KEEPCNT", "1..127"})
	}
	// What each socket holds before the refused Config: keepalive off, or
	// on with these timings.
	before := Config{Idle: 7 * time.Second, Interval: 3 * time.Second}
	if support.keepCnt {
		before.Count = 4
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%+v", tc.cfg), func(t *testing.T) {
			start := time.Now()
			off, _ := pair(t)
			fresh := getReadable(t, off)
			on, _ := pair(t)
			require.NoError(t, before.Apply(on))
			for _, c := range []*net.TCPConn{off, on} {
				held := getReadable(t, c)
				err := tc.cfg.Apply(c)
				var re *RangeError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tc.field, re.Field)
				assert.Equal(t, tc.option, re.Option)
				assert.Equal(t, "windows", re.OS)
				assert.ErrorContains(t, err, " out of range for "+tc.option+" on windows under Wine on Linux ("+tc.limit+")")
				assert.ErrorIs(t, err, ErrOutOfRange)
				require.NotErrorAs(t, err, new(*OptionError), "refused by the host, not by validation")
				assert.Equal(t, held, getReadable(t, c), "the socket changed by a refused Config")
			}
			assert.False(t, fresh.Enabled)
			assertNoHostTimer(t, off)
			assertHostTimer(t, on, before.Idle, start)
		})
	}

	// Linux's largest values are taken.
	start := time.Now()
	c, _ := pair(t)
	most := Config{Idle: 32767 * time.Second, Interval: 32767 * time.Second}
	if support.keepCnt {
		most.Count = 127
	}
	require.NoError(t, most.Apply(c))
	assertHostTimer(t, c, most.Idle, start)
	if !support.ioctl() {
		s := getReadable(t, c)
		assert.Equal(t, most, Config{Idle: s.Config.Idle, Interval: s.Config.Interval, Count: s.Config.Count})
	}
}

func TestWindowsInvalidConfigChangesNothing(t *testing.T) {
	// Windows' limits, or those of the Linux socket under Wine.
	windowsLimits, countLimits := "windows (1s..1193h2m47s)", "windows (1..255)"
	if wineHost == "Linux" {
		windowsLimits, countLimits = "windows under Wine on Linux (1s..9h6m7s)", "windows under Wine on Linux (1..127)"
	}
	cases := []struct {
		cfg  Config
		text string
	}{
		{Config{Idle: -time.Second}, "keepalive: Idle=-1s is negative"},
		{Config{Interval: -1}, "keepalive: Interval=-1ns is negative"},
		{Config{Count: -1}, "keepalive: Count=-1 is negative"},
		{Config{UserTimeout: -time.Millisecond}, "keepalive: UserTimeout=-1ms is negative"},
		{Config{Idle: 4294968 * time.Second}, "keepalive: Idle=1193h2m48s out of range for " + native.knobs[idle].name + " on " + windowsLimits},
		{Config{Idle: time.Second, Interval: time.Duration(1<<63 - 1)}, "Interval=2562047h47m16.854775807s out of range"},
	}
	if support.keepCnt {
		cases = append(cases, struct {
			cfg  Config
			text string
		}{Config{Idle: time.Second, Interval: time.Second, Count: 256}, "keepalive: Count=256 out of range for TCP_KEEPCNT on " + countLimits})
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			c, _ := pair(t)
			require.NoError(t, Disable(c))
			err := tc.cfg.Apply(c)
			require.ErrorIs(t, err, ErrOutOfRange)
			assert.ErrorContains(t, err, tc.text)
			rc, err := c.SyscallConn()
			require.NoError(t, err)
			require.ErrorIs(t, tc.cfg.ApplyRawConn(rc), ErrOutOfRange)
			require.ErrorIs(t, tc.cfg.Control("tcp", "", rc), ErrOutOfRange)
			s, _ := Get(c)
			assert.False(t, s.Enabled, "keepalive turned on by an invalid Config")
			assertNoHostTimer(t, c)
		})
	}
}

// rawSocket is a bare socket handle as a syscall.RawConn.
type rawSocket windows.Handle

func (s rawSocket) Control(f func(uintptr)) error  { f(uintptr(s)); return nil }
func (s rawSocket) Read(func(uintptr) bool) error  { return errors.ErrUnsupported }
func (s rawSocket) Write(func(uintptr) bool) error { return errors.ErrUnsupported }

// sockConn is a net.Conn whose only use is its socket.
type sockConn struct {
	net.Conn
	rc syscall.RawConn
}

func (c sockConn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

func TestWindowsNotTCP(t *testing.T) {
	// Go's own UDP sockets fail under Wine (SIO_UDP_NETRESET), so a bare
	// one is made.
	h, err := windows.Socket(windows.AF_INET, windows.SOCK_DGRAM, windows.IPPROTO_UDP)
	require.NoError(t, err)
	defer windows.Closesocket(h)
	cfg := Config{Idle: time.Second, Interval: time.Second}
	require.ErrorIs(t, cfg.ApplyRawConn(rawSocket(h)), ErrNotTCP)
	conn := sockConn{rc: rawSocket(h)}
	assert.ErrorIs(t, cfg.Apply(conn), ErrNotTCP)
	_, err = Get(conn)
	assert.ErrorIs(t, err, ErrNotTCP)
	assert.ErrorIs(t, Disable(conn), ErrNotTCP)
	assert.ErrorContains(t, cfg.Apply(conn), "socket type 2, protocol 17")

	assert.ErrorIs(t, cfg.Control("udp", "", rawSocket(h)), ErrNotTCP)

	// A TCP socket behind the same wrapper, or behind *tls.Conn, is fine.
	c, _ := pair(t)
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, cfg.Apply(sockConn{rc: rc}))
	s, _ := Get(sockConn{rc: rc})
	assert.True(t, s.Enabled)
	tc := tls.Client(c, &tls.Config{})
	require.NoError(t, Disable(tc))
	s, _ = Get(tc)
	assert.False(t, s.Enabled)
	require.NoError(t, cfg.Apply(tc))
	s, _ = Get(c)
	assert.True(t, s.Enabled)

	require.NoError(t, c.Close())
	assert.ErrorIs(t, cfg.Apply(c), net.ErrClosed)
	_, err = Get(c)
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.ErrorIs(t, Disable(c), net.ErrClosed)
}

func TestWindowsIsDeadPeer(t *testing.T) {
	assert.True(t, IsDeadPeer(windows.WSAETIMEDOUT))
	assert.True(t, IsDeadPeer(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("wsarecv", windows.WSAETIMEDOUT)}))
	assert.True(t, IsDeadPeer(syscall.ETIMEDOUT))
	// What recv and send return when keepalive found the peer gone while
	// they were in progress.
	assert.True(t, IsDeadPeer(windows.WSAENETRESET))
	assert.True(t, IsDeadPeer(&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("wsasend", windows.WSAENETRESET)}))
	assert.False(t, IsDeadPeer(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connectex", windows.WSAENETRESET)}))
	assert.False(t, IsDeadPeer(windows.WSAECONNRESET))
	assert.False(t, IsDeadPeer(os.ErrDeadlineExceeded))
	assert.False(t, IsDeadPeer(nil))
}

func TestWindowsSystemDefaults(t *testing.T) {
	got, err := SystemDefaults()
	require.NoError(t, err)
	want := Config{Idle: 2 * time.Hour, Interval: time.Second, Count: 10}
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, tcpipParameters, registry.QUERY_VALUE); err == nil {
		defer k.Close()
		if ms, _, err := k.GetIntegerValue("KeepAliveTime"); err == nil && ms > 0 {
			want.Idle = time.Duration(ms) * time.Millisecond
		}
		if ms, _, err := k.GetIntegerValue("KeepAliveInterval"); err == nil && ms > 0 {
			want.Interval = time.Duration(ms) * time.Millisecond
		}
	}
	assert.Equal(t, want, got)
}

func TestWindowsDialerAndListen(t *testing.T) {
	cfg := Config{Idle: 6 * time.Second, Interval: 2 * time.Second}
	ln, err := cfg.Listen(context.Background(), nil, "tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	d, err := cfg.Dialer(nil)
	require.NoError(t, err)
	start := time.Now()
	c, err := d.Dial("tcp4", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	s := <-accepted
	require.NotNil(t, s)
	defer s.Close()
	for name, conn := range map[string]*net.TCPConn{"dialed": c.(*net.TCPConn), "accepted": s.(*net.TCPConn)} {
		st := getReadable(t, conn)
		assert.True(t, st.Enabled, name)
		if !support.ioctl() {
			assert.Equal(t, cfg, Config{Idle: st.Config.Idle, Interval: st.Config.Interval}, name)
		}
		assertHostTimer(t, conn, 6*time.Second, start)
	}

	// What cannot be set is reported when the listener is made, never
	// dropped silently; the listener works and sets the rest.
	if !support.keepCnt {
		ln, err := Config{Idle: 6 * time.Second, Count: 3}.Listen(context.Background(), nil, "tcp4", "127.0.0.1:0")
		assert.ErrorIs(t, err, ErrUnsupported)
		assert.ErrorContains(t, err, "Count")
		require.NotNil(t, ln)
		ln.Close()
	}
}

func TestWindowsZeroAllocations(t *testing.T) {
	c, _ := pair(t)
	cfg := Config{Idle: 5 * time.Second, Interval: 2 * time.Second}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = cfg.Apply(c) }), "Apply")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Get(c) }), "Get")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = Disable(c) }), "Disable")
}

// A live peer answers the probes: the connection outlives the time in
// which a dead one is detected.
func TestWindowsLivePeerSurvives(t *testing.T) {
	t.Parallel()
	c, _ := pair(t)
	cfg := Config{Idle: time.Second, Interval: time.Second}
	require.NoError(t, cfg.Apply(c))
	// Wait past the bound (with the fixed count where there is one), so a
	// probe that went unanswered would have killed the connection.
	bound := boundOf(t, cfg)
	if bound == 0 {
		bound = cfg.Idle + cfg.Interval*10
	}
	require.NoError(t, c.SetReadDeadline(time.Now().Add(bound+time.Second)))
	_, err := c.Read(make([]byte, 1))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.False(t, IsDeadPeer(err))
}

// A peer that vanishes (every segment to it dropped, nothing answered) is
// detected by keepalive, and the error is recognised as such.
func TestWindowsDeadPeer(t *testing.T) {
	t.Parallel()
	addr := os.Getenv(blackholeAddrEnv)
	if addr == "" {
		t.Skipf("%s is not set: run .ci/windows-tests.sh, which starts a black-holing peer (go run ./internal/cmd/blackholed, Linux, needs CAP_NET_ADMIN) and sets it", blackholeAddrEnv)
	}
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	require.NoError(t, err)
	defer c.Close()

	cfg := Config{Idle: time.Second, Interval: time.Second, Count: 3}
	bound := boundOf(t, cfg)
	err = cfg.Apply(c)
	if !support.keepCnt {
		// The system's count applies: 10 on Windows, which
		// DetectionBound counts; under Wine the host's
		// tcp_keepalive_probes, 9 by default.
		require.ErrorIs(t, err, ErrUnsupported)
		assert.Equal(t, cfg.Idle+cfg.Interval*10, bound)
		def, _ := SystemDefaults()
		bound = cfg.Idle + cfg.Interval*time.Duration(def.Count)
	} else {
		require.NoError(t, err)
	}

	start := time.Now()
	require.NoError(t, c.SetReadDeadline(start.Add(bound+time.Minute))) // only a safety net
	_, err = c.Read(make([]byte, 1))
	took := time.Since(start)
	t.Logf("read failed after %v (bound %v): %v", took.Round(time.Millisecond), bound, err)
	require.Error(t, err)
	assert.True(t, IsDeadPeer(err), "not recognised as a dead peer: %#v", err)
	assert.ErrorIs(t, err, windows.WSAETIMEDOUT)
	assert.GreaterOrEqual(t, took, cfg.Idle+cfg.Interval, "dropped before a probe went unanswered")
	assert.Less(t, took, bound+max(bound, 5*time.Second), "detected too late")
}
