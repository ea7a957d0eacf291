//go:build linux

package keepalive

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// serveDNS answers every A query it receives on pc with addr, until pc is
// closed: just enough of RFC 1035 for a net.Resolver.
func serveDNS(pc net.PacketConn, addr [4]byte) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		q := buf[:n]
		// The question: labels up to the zero byte, then type and class.
		end := 12
		for end < len(q) && q[end] != 0 {
			end += int(q[end]) + 1
		}
		end += 5
		if end > len(q) {
			continue
		}
		resp := append([]byte{}, q[:end]...)
		binary.BigEndian.PutUint16(resp[2:], 0x8180) // response, recursion available, no error
		binary.BigEndian.PutUint16(resp[4:], 1)      // one question
		binary.BigEndian.PutUint16(resp[6:], 0)      // answers, filled below
		binary.BigEndian.PutUint16(resp[8:], 0)
		binary.BigEndian.PutUint16(resp[10:], 0)
		if binary.BigEndian.Uint16(q[end-4:]) == 1 { // type A
			binary.BigEndian.PutUint16(resp[6:], 1)
			resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
			resp = append(resp, addr[:]...)
		}
		_, _ = pc.WriteTo(resp, from)
	}
}

// A Dialer copy dials UDP and Unix sockets as its base would, so it can
// serve a net.Resolver; only TCP sockets get keepalive.
func TestDialerDialsEveryNetwork(t *testing.T) {
	cfg := Config{Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4}
	d := mustDialer(t, cfg, nil)

	dns, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer dns.Close()
	go serveDNS(dns, [4]byte{192, 0, 2, 7})
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, dns.LocalAddr().String())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := r.LookupHost(ctx, "keepalive.test.")
	require.NoError(t, err)
	assert.Contains(t, addrs, "192.0.2.7")

	udp, err := d.Dial("udp4", dns.LocalAddr().String())
	require.NoError(t, err)
	udp.Close()

	path := t.TempDir() + "/s"
	ul, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer ul.Close()
	uc, err := d.Dial("unix", path)
	require.NoError(t, err)
	uc.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c, _ := dialAccept(t, ln, d)
	assert.Equal(t, State{Enabled: true, Config: cfg}, mustGet(t, c))
}

// A ListenConfig copy listens on UDP and Unix sockets as its base would.
func TestListenConfigListensEveryNetwork(t *testing.T) {
	cfg := Config{Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4}
	lc := mustListenConfig(t, cfg, nil)
	pc, err := lc.ListenPacket(context.Background(), "udp", "127.0.0.1:0")
	require.NoError(t, err)
	pc.Close()
	ul, err := lc.Listen(context.Background(), "unix", t.TempDir()+"/s")
	require.NoError(t, err)
	ul.Close()
}

// countingControl counts the calls of a base Control func.
type countingControl struct{ calls int }

func (c *countingControl) control(string, string, syscall.RawConn) error {
	c.calls++
	return nil
}

// mptcpAvailable skips the test, saying why, where the kernel has no
// Multipath TCP: then there is nothing to fall back from.
func mptcpAvailable(t *testing.T) {
	t.Helper()
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_MPTCP)
	if err != nil {
		t.Skipf("no Multipath TCP on this kernel: %v", err)
	}
	unix.Close(s)
}

// Linux has no TCP_USER_TIMEOUT on an MPTCP socket. A Config with
// UserTimeout makes the helpers use plain TCP up front, so the base Control
// runs once per socket and the timeout holds; without UserTimeout, the
// base's MPTCP choice stands.
func TestUserTimeoutChoosesPlainTCP(t *testing.T) {
	mptcpAvailable(t)
	cfg := Config{Idle: 6 * time.Second, Interval: 2 * time.Second, Count: 5, UserTimeout: 3 * time.Second}
	want := State{Enabled: true, Config: cfg}

	t.Run("ListenConfig", func(t *testing.T) {
		var cc countingControl
		ln, err := mustListenConfig(t, cfg, &net.ListenConfig{Control: cc.control}).Listen(context.Background(), "tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		assert.Equal(t, 1, cc.calls, "base Control runs once")
		_, s := dialAccept(t, ln, &net.Dialer{KeepAlive: -1})
		assert.Equal(t, want, mustGet(t, s))
	})
	t.Run("Listen", func(t *testing.T) {
		var cc countingControl
		ln, err := cfg.Listen(context.Background(), &net.ListenConfig{Control: cc.control}, "tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		assert.Equal(t, 1, cc.calls, "base Control runs once")
		_, s := dialAccept(t, ln, &net.Dialer{KeepAlive: -1})
		assert.Equal(t, want, mustGet(t, s))
	})
	t.Run("Dialer", func(t *testing.T) {
		lc := net.ListenConfig{}
		lc.SetMultipathTCP(true)
		ln, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		var cc countingControl
		base := &net.Dialer{Control: cc.control}
		base.SetMultipathTCP(true)
		c, _ := dialAccept(t, ln, mustDialer(t, cfg, base))
		assert.Equal(t, 1, cc.calls, "base Control runs once")
		mptcp, err := c.MultipathTCP()
		require.NoError(t, err)
		assert.False(t, mptcp, "plain TCP, so that UserTimeout holds")
		assert.Equal(t, want, mustGet(t, c))
		assert.True(t, base.MultipathTCP(), "base left alone")

		// Without UserTimeout the base's choice stands.
		noUT := Config{Idle: 6 * time.Second}
		c, _ = dialAccept(t, ln, mustDialer(t, noUT, base))
		mptcp, err = c.MultipathTCP()
		require.NoError(t, err)
		assert.True(t, mptcp, "MPTCP kept")
	})
}

// A Listener wrapper hands on what is not TCP untouched, so that a server
// over a Unix listener serves; it refuses a nil listener when built.
func TestListenerNotTCP(t *testing.T) {
	cfg := Config{Idle: 6 * time.Second}
	_, err := cfg.Listener(nil)
	assert.ErrorIs(t, err, ErrNotTCP)
	_, err = cfg.Listener((*net.TCPListener)(nil))
	assert.ErrorIs(t, err, ErrNotTCP)

	path := t.TempDir() + "/s"
	ul, err := net.Listen("unix", path)
	require.NoError(t, err)
	ln, err := cfg.Listener(ul)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
	resp, err := client.Get("http://unix/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "hello", string(body))
	require.NoError(t, srv.Close())
	assert.ErrorIs(t, <-done, http.ErrServerClosed)
}

// A raw IP socket for protocol TCP has SO_PROTOCOL IPPROTO_TCP, but it is
// not a TCP connection.
func TestRawIPSocketIsNotTCP(t *testing.T) {
	ip, err := net.ListenIP("ip4:tcp", &net.IPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("raw sockets need CAP_NET_RAW: %v", err)
	}
	require.NoError(t, err)
	defer ip.Close()
	assert.ErrorIs(t, Config{}.Apply(ip), ErrNotTCP)
	_, err = Get(ip)
	assert.ErrorIs(t, err, ErrNotTCP)
	assert.ErrorIs(t, Disable(ip), ErrNotTCP)
	rc, err := ip.SyscallConn()
	require.NoError(t, err)
	assert.ErrorIs(t, Config{}.ApplyRawConn(rc), ErrNotTCP)
	var on int
	require.NoError(t, rc.Control(func(fd uintptr) { on, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE) }))
	require.NoError(t, err)
	assert.Zero(t, on, "SO_KEEPALIVE switched on on a raw socket")
}

// A syscall.Conn whose descriptor is no socket at all is not TCP either.
func TestPipeIsNotTCP(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	conn := syscallOnly{p1, r}
	assert.ErrorIs(t, Config{Idle: time.Second}.Apply(conn), ErrNotTCP)
	_, err = Get(conn)
	assert.ErrorIs(t, err, ErrNotTCP)
	assert.ErrorIs(t, Disable(conn), ErrNotTCP)
}

// Through *tls.Conn and any NetConn chain, Apply, Get and Disable take the
// *net.TCPConn's own path: no allocation.
func TestZeroAllocationsThroughWrappers(t *testing.T) {
	c, _ := pair(t)
	cfg := Config{Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}
	for name, conn := range map[string]net.Conn{
		"tls.Conn":        tls.Client(c, &tls.Config{}),
		"NetConn chain":   netConnWrapper{netConnWrapper{tls.Server(c, &tls.Config{})}},
		"*net.TCPConn":    c,
		"net.Conn of TCP": net.Conn(c),
	} {
		require.NoError(t, cfg.Apply(conn), name)
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = cfg.Apply(conn) }), "Apply through %s", name)
		assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Get(conn) }), "Get through %s", name)
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = Disable(conn) }), "Disable through %s", name)
	}
}

// An OS error names the connection, as package net's errors do.
func TestOSErrorNamesConnection(t *testing.T) {
	c, _ := pair(t)
	saved := native
	p := *native
	p.knobs[count].max = 1000 // let a value the kernel refuses through validation
	native = &p
	defer func() { native = saved }()
	err := Config{Count: 200}.Apply(c)
	var oe *net.OpError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, c.LocalAddr(), oe.Source)
	assert.Equal(t, c.RemoteAddr(), oe.Addr)
	assert.ErrorIs(t, err, syscall.EINVAL)
	assert.EqualError(t, err, "apply tcp "+c.LocalAddr().String()+"->"+c.RemoteAddr().String()+": keepalive: set TCP_KEEPCNT=200: invalid argument")
}

// A TCP connection the OS refuses to configure is closed, and Accept
// returns one error naming it, not temporary: a server such as net/http
// stops instead of retrying forever.
func TestListenerRefusalIsPermanent(t *testing.T) {
	saved := native
	p := *native
	p.knobs[count].max = 1000 // let a value the kernel refuses through validation
	native = &p
	defer func() { native = saved }()
	plain, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	ln, err := Config{Count: 200}.Listener(plain)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		if c, err := net.Dial("tcp4", plain.Addr().String()); err == nil {
			defer c.Close()
			_, _ = c.Read(make([]byte, 1))
		}
	}()
	conn, err := ln.Accept()
	assert.Nil(t, conn)
	require.ErrorIs(t, err, syscall.EINVAL)
	var oe *net.OpError
	require.ErrorAs(t, err, &oe)
	assert.False(t, oe.Temporary(), "a temporary error keeps http.Server retrying")
	assert.NotNil(t, oe.Addr, "the error names the connection")
}

// Every error says "keepalive:" once, also an *UnsupportedError that
// carries the OS's refusal, and one made outside the package reads well.
func TestErrorTextsSayKeepaliveOnce(t *testing.T) {
	var v values
	v.v[idle], v.set[idle] = 5, true
	v.v[userTimeout], v.set[userTimeout] = 1000, true
	refused := &OptionError{Op: "set", Option: "TCP_USER_TIMEOUT", Value: 1000, Err: syscall.ENOPROTOOPT}
	err := v.shortfall(&linux, FieldUserTimeout, refused)
	assert.EqualError(t, err, "keepalive: linux cannot set UserTimeout on this socket (set: Idle): set TCP_USER_TIMEOUT=1000: protocol not available")
	assert.ErrorIs(t, err, syscall.ENOPROTOOPT)
	assert.EqualError(t, &UnsupportedError{OS: "linux", Set: FieldIdle, Missing: FieldCount},
		"keepalive: linux has no per-socket option for Count (set: Idle)")
}

// Fields.String shows bits that name no field instead of hiding them.
func TestFieldsStringUnknownBits(t *testing.T) {
	assert.Equal(t, "Fields(0x10)", Fields(0x10).String())
	assert.Equal(t, "Idle, UserTimeout, Fields(0xf0)", (FieldIdle | FieldUserTimeout | 0xf0).String())
	assert.Equal(t, "none", Fields(0).String())
}

// A client that resets before its connection is configured makes Accept
// fail with a temporary error, so that net/http goes on serving the next
// one; a refused value stays permanent (TestListenerRefusalIsPermanent).
func TestListenerResetIsTemporary(t *testing.T) {
	plain, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	ln, err := Config{Count: 3}.Listener(plain)
	require.NoError(t, err)
	defer ln.Close()
	r := recording(t, &recorder{fail: map[string]error{"TCP_KEEPCNT": syscall.ECONNRESET}})
	go func() {
		if c, err := net.Dial("tcp4", plain.Addr().String()); err == nil {
			defer c.Close()
			_, _ = c.Read(make([]byte, 1))
		}
	}()
	conn, err := ln.Accept()
	assert.Nil(t, conn)
	require.ErrorIs(t, err, syscall.ECONNRESET)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	//lint:ignore SA1019 Temporary is what net/http's Serve asks.
	assert.True(t, ne.Temporary(), "net/http stops serving on a permanent error: %v", err)
	assert.Equal(t, []string{"TCP_KEEPCNT=3"}, r.calls)

	for _, errno := range []syscall.Errno{syscall.ECONNABORTED, syscall.EINTR} {
		assert.True(t, (&OptionError{Op: "set", Err: errno}).Temporary(), "%v", errno)
	}
	for _, errno := range []syscall.Errno{syscall.EINVAL, syscall.ENOPROTOOPT, syscall.EBADF} {
		assert.False(t, (&OptionError{Op: "set", Err: errno}).Temporary(), "%v", errno)
	}
}

// Control on its own, on a Multipath TCP socket: Go answers the refused
// TCP_USER_TIMEOUT by trying again on plain TCP, calling Control twice, as
// Control's doc says; Config.Dialer and Config.ListenConfig avoid that.
func TestControlOnMPTCPFallsBackToPlainTCP(t *testing.T) {
	mptcpAvailable(t)
	cfg := Config{Idle: 6 * time.Second, UserTimeout: 3 * time.Second}
	calls := 0
	lc := net.ListenConfig{KeepAlive: -1, Control: func(network, address string, rc syscall.RawConn) error {
		calls++
		return cfg.Control(network, address, rc)
	}}
	lc.SetMultipathTCP(true)
	ln, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	require.NoError(t, err, "no error: Go retried on plain TCP")
	defer ln.Close()
	assert.Equal(t, 2, calls, "Control on the MPTCP socket, then on the plain one")
	rc, err := ln.(*net.TCPListener).SyscallConn()
	require.NoError(t, err)
	var proto int
	require.NoError(t, rc.Control(func(fd uintptr) { proto, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PROTOCOL) }))
	require.NoError(t, err)
	assert.Equal(t, unix.IPPROTO_TCP, proto, "plain TCP")
	s, err := getRaw(rc)
	require.NoError(t, err)
	assert.Equal(t, cfg.UserTimeout, s.Config.UserTimeout)
}

// State.DetectionBound is 0 where a timing it needs cannot be read back.
func TestStateDetectionBoundUnknown(t *testing.T) {
	s := State{Enabled: true, Config: Config{Count: 3}, Unknown: FieldIdle | FieldInterval}
	assert.Zero(t, s.DetectionBound())
	s = State{Enabled: true, Config: Config{Idle: time.Second, Interval: time.Second}, Unknown: FieldCount}
	assert.Zero(t, s.DetectionBound(), "Linux has no fixed count to stand in")
}

// Get's doc: net.Dial's connection holds Go's own keepalive, not the
// system's defaults; a Dialer with KeepAlive -1 leaves them.
func TestGetOfGoDialedConn(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	gos, _ := dialAccept(t, ln, &net.Dialer{})
	assert.Equal(t, State{Enabled: true, Config: Config{Idle: 15 * time.Second, Interval: 15 * time.Second, Count: 9}}, mustGet(t, gos))
	untouched, _ := dialAccept(t, ln, &net.Dialer{KeepAlive: -1})
	assert.Equal(t, State{Config: systemDefaults(t)}, mustGet(t, untouched))
}

// The README's example of a tolerated shortfall is what the dragonfly
// table gives; FreeBSD has TCP_MAXUNACKTIME, and a FreeBSD before 14
// lacks it per socket, which reads differently.
func TestREADMEShortfallText(t *testing.T) {
	cfg := Config{Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: time.Minute}
	v, err := cfg.values(&dragonfly)
	require.NoError(t, err)
	assert.EqualError(t, v.shortfall(&dragonfly, 0, nil), "keepalive: dragonfly has no per-socket option for UserTimeout (set: Idle, Interval, Count)")
	v, err = cfg.values(&freebsd)
	require.NoError(t, err)
	assert.NoError(t, v.shortfall(&freebsd, 0, nil))
}

// A closed connection of package net behind a bare syscall.Conn, not only
// a *net.TCPConn, gives net.ErrClosed, as Apply's doc says.
func TestClosedSyscallConn(t *testing.T) {
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, udp.Close())
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	err = Config{Idle: time.Second}.Apply(syscallOnly{p1, udp.(*net.UDPConn)})
	assert.ErrorIs(t, err, net.ErrClosed)
}

// Apply allocates nothing when it succeeds, also after a failure on the
// same socket, and only its error when it fails.
func TestAllocationsOnlyForErrors(t *testing.T) {
	c, _ := pair(t)
	cfg := Config{Idle: 5 * time.Second}
	closed, _ := pair(t)
	require.NoError(t, closed.Close())
	assert.Positive(t, testing.AllocsPerRun(10, func() { _ = cfg.Apply(closed) }), "an error is allocated")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = cfg.Apply(c) }))
}

// Listen's doc names the OSes whose listeners pass every knob on, so that
// accepting costs no system call: exactly those whose tables say so.
func TestListenNoCallPerConnOSes(t *testing.T) {
	everything := Config{Idle: 20 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: time.Minute}
	var none []string
	for _, p := range []*platform{&linux, &darwin, &freebsd, &dragonfly, &netbsd, &illumos, &solaris, &aix} {
		v, err := everything.values(p)
		require.NoError(t, err, p.goos)
		if _, perConn := v.split(p); perConn == (values{}) {
			none = append(none, p.goos)
		}
	}
	assert.Equal(t, []string{"linux", "freebsd", "dragonfly", "illumos"}, none)
}

// nilRawConn is a syscall.RawConn type whose nil pointer would panic.
type nilRawConn struct{ fd uintptr }

func (r *nilRawConn) Control(f func(uintptr)) error  { f(r.fd); return nil }
func (r *nilRawConn) Read(func(uintptr) bool) error  { return nil }
func (r *nilRawConn) Write(func(uintptr) bool) error { return nil }

// rawOnly is a syscall.Conn whose SyscallConn gives a typed-nil RawConn.
type rawOnly struct {
	net.Conn
	rc *nilRawConn
}

func (r rawOnly) SyscallConn() (syscall.RawConn, error) { return r.rc, nil }

// A typed-nil RawConn is refused like a nil one, never a panic.
func TestTypedNilRawConn(t *testing.T) {
	var rc *nilRawConn
	cfg := Config{Idle: time.Second}
	assert.ErrorIs(t, cfg.ApplyRawConn(rc), ErrNotTCP)
	assert.ErrorIs(t, cfg.Control("tcp", "", rc), ErrNotTCP)
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	assert.ErrorIs(t, cfg.Apply(rawOnly{Conn: p1}), ErrNotTCP)
	_, err := Get(rawOnly{Conn: p1})
	assert.ErrorIs(t, err, ErrNotTCP)
	d, err := cfg.Dialer(nil)
	require.NoError(t, err)
	assert.ErrorIs(t, d.ControlContext(context.Background(), "tcp", "", rc), ErrNotTCP)
}

// idleRawConn is a syscall.RawConn that says yes and does nothing.
type idleRawConn struct{}

func (idleRawConn) Control(func(uintptr)) error    { return nil }
func (idleRawConn) Read(func(uintptr) bool) error  { return nil }
func (idleRawConn) Write(func(uintptr) bool) error { return nil }

// A RawConn whose Control never runs its func reached no socket: never a
// nil error for a Config that was not applied.
func TestRawConnThatDoesNothing(t *testing.T) {
	cfg := Config{Idle: time.Second}
	assert.ErrorIs(t, cfg.ApplyRawConn(idleRawConn{}), ErrNotTCP)
	assert.ErrorIs(t, cfg.Control("tcp", "", idleRawConn{}), ErrNotTCP)
}

// opaqueListener hands out connections in a wrapper that hides the socket.
type opaqueListener struct{ net.Listener }

type opaqueConn struct{ c net.Conn }

func (o opaqueConn) Read(b []byte) (int, error)         { return o.c.Read(b) }
func (o opaqueConn) Write(b []byte) (int, error)        { return o.c.Write(b) }
func (o opaqueConn) Close() error                       { return o.c.Close() }
func (o opaqueConn) LocalAddr() net.Addr                { return o.c.LocalAddr() }
func (o opaqueConn) RemoteAddr() net.Addr               { return o.c.RemoteAddr() }
func (o opaqueConn) SetDeadline(t time.Time) error      { return o.c.SetDeadline(t) }
func (o opaqueConn) SetReadDeadline(t time.Time) error  { return o.c.SetReadDeadline(t) }
func (o opaqueConn) SetWriteDeadline(t time.Time) error { return o.c.SetWriteDeadline(t) }

func (l opaqueListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return opaqueConn{c}, nil
}

// Listener's doc: a connection whose socket is hidden is handed on
// untouched; wrapped below the hiding wrapper, it is configured.
func TestListenerOverHiddenSocket(t *testing.T) {
	lc := net.ListenConfig{KeepAlive: -1}
	plain, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := Config{Idle: 7 * time.Second}
	hidden, err := cfg.Listener(opaqueListener{plain})
	require.NoError(t, err)
	defer hidden.Close()
	accept := func(ln net.Listener) net.Conn {
		c, err := net.Dial("tcp4", plain.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		s, err := ln.Accept()
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := accept(hidden)
	_, err = Get(s)
	assert.ErrorIs(t, err, ErrNotTCP, "the socket is hidden")
	below, err := cfg.Listener(plain)
	require.NoError(t, err)
	s = accept(opaqueListener{below})
	assert.Equal(t, 7*time.Second, mustGet(t, s.(opaqueConn).c).Config.Idle)
}
