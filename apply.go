package keepalive

import (
	"fmt"
	"net"
	"reflect"
	"syscall"
)

// Apply turns keepalive on for conn and sets every non-zero field of c.
//
// conn may be a *net.TCPConn, anything with a NetConn() net.Conn method (such
// as *tls.Conn), unwrapped repeatedly, or any syscall.Conn whose socket is
// TCP. Other connections, including a syscall.Conn whose descriptor is not a
// socket or a raw IP socket, get an error wrapping ErrNotTCP, a closed one an
// error matching net.ErrClosed (if it is one of package net's; any other
// syscall.Conn gives what its RawConn.Control gives). c is validated before the socket is touched,
// and keepalive is switched on only after every timing has been set (where
// the OS allows: see the package doc), so a refused value does not leave
// probes running on a half-set configuration. The errors are the package's
// contract (see the package doc).
//
// Each field is its own system call: two Applies racing on one socket are
// not atomic with each other and may leave a mix of both Configs. Apply
// (and Get, Disable) on a *net.TCPConn, or on wrappers of one, allocates
// nothing when it succeeds; an error is a value of its own.
func (c Config) Apply(conn net.Conn) error {
	v, err := c.values(native)
	if err != nil {
		return err
	}
	return applyValues(conn, &v)
}

// applyValues is Apply for a Config already validated and converted.
func applyValues(conn net.Conn, v *values) error {
	op := sockOp{kind: opApply, v: *v}
	return op.onConn(conn)
}

// ApplyRawConn is Apply for a raw connection, such as one from
// [syscall.Conn.SyscallConn]. The socket is checked to be TCP first.
func (c Config) ApplyRawConn(rc syscall.RawConn) error {
	v, err := c.values(native)
	if err != nil {
		return err
	}
	op := sockOp{kind: opApply, check: true, v: v}
	return op.onRaw(rc)
}

// Control applies c to a socket before it connects or listens. Its signature
// fits [net.Dialer.Control] and [net.ListenConfig.Control]:
//
//	d := net.Dialer{Control: cfg.Control, KeepAlive: -1}
//
// Set KeepAlive to -1 there, or Go applies its own 15 s keepalive after
// connecting and overwrites c; [Config.Dialer] and [Config.ListenConfig] do
// that for you, and also dial and listen on networks other than TCP. Used on
// its own, Control refuses a network other than tcp, tcp4 or tcp6 with
// ErrNotTCP, and returns what Apply would: Go then fails the Dial or Listen
// on any error, a tolerated shortfall (*UnsupportedError) too, where the
// copies from Config.Dialer and Config.ListenConfig take the shortfall
// they reported when built. One exception is Go's: on a Multipath TCP
// socket (a ListenConfig's default on Linux, a Dialer's with
// SetMultipathTCP(true)) Go answers any error by trying again with a plain
// TCP socket, calling Control once more; so a Config with UserTimeout,
// which Linux cannot set on MPTCP, silently ends on plain TCP there.
func (c Config) Control(network, address string, rc syscall.RawConn) error {
	v, err := c.values(native)
	if err != nil {
		return err
	}
	if err := checkNetwork(network); err != nil {
		return err
	}
	op := sockOp{kind: opApply, v: v}
	return op.onRaw(rc)
}

// checkNetwork accepts the TCP networks of package net.
func checkNetwork(network string) error {
	if !isTCPNetwork(network) {
		return fmt.Errorf("%w: network %q", ErrNotTCP, network)
	}
	return nil
}

// isTCPNetwork reports whether network names TCP, as package net passes it
// to a Control func.
func isTCPNetwork(network string) bool {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return true
	}
	return false
}

// Get returns what the kernel holds for conn now, OS defaults included: on a
// Linux socket that nothing configured, Enabled false and 2h0m0s / 1m15s /
// 9 probes (from /proc/sys/net/ipv4/tcp_keepalive_*), UserTimeout 0. A
// connection from net.Dial, or accepted from net.Listen, is not such a
// socket: Go has switched on its own 15s / 15s / 9 probes there, unless
// the Dialer's or ListenConfig's KeepAlive is negative. It takes the
// connections Apply takes.
func Get(conn net.Conn) (State, error) {
	op := sockOp{kind: opGet}
	err := op.onConn(conn)
	return op.s, err
}

// Disable turns keepalive probes off for conn. The timings stay as they are,
// so a later Apply with a zero Config turns them back on unchanged.
func Disable(conn net.Conn) error {
	op := sockOp{kind: opDisable}
	return op.onConn(conn)
}

// Inspect reads what the kernel knows about conn right now: its TCP state,
// unanswered probes, retransmissions, queued data, how long it has been
// quiet and its round-trip time (see [Health]). It accepts the same
// connections as [Config.Apply]: a *net.TCPConn, anything with a NetConn()
// method (such as *tls.Conn), or a syscall.Conn whose socket is TCP; others
// get an error wrapping ErrNotTCP, a closed one an error matching
// net.ErrClosed.
//
// A connection the kernel has already dropped can still be inspected until
// it is closed, and that is what tells why it died (see [Diagnose]).
//
// Where the OS has no such query, or refuses it (Wine), the error matches
// ErrUnsupported. Inspect does not allocate.
func Inspect(conn net.Conn) (Health, error) {
	op := sockOp{kind: opInspect}
	err := op.onConn(conn)
	return op.h, err
}

// A sockOp is one of Apply, Get, Disable and Inspect on one socket: what runs inside
// RawConn.Control, with its input and its result.
type sockOp struct {
	kind  opKind
	check bool   // make sure the socket is TCP first
	v     values // opApply: what to set
	s     State  // opGet: what was read
	h     Health // opInspect: what was read
	err   error  // the outcome of run
	ran   bool   // run was called
}

type opKind uint8

const (
	opApply opKind = iota
	opGet
	opDisable
	opInspect
)

// opNames name the operations in a *net.OpError.
var opNames = [...]string{opApply: "apply", opGet: "get", opDisable: "disable", opInspect: "inspect"}

// run performs op on the socket fd, inside RawConn.Control.
func (op *sockOp) run(fd uintptr) {
	op.ran = true
	if op.check {
		if op.err = checkTCP(fd); op.err != nil {
			return
		}
	}
	switch op.kind {
	case opApply:
		op.err = setAll(native, fd, &op.v)
	case opGet:
		op.err = getAll(native, fd, &op.s)
	case opDisable:
		op.err = setEnabled(fd, false)
	case opInspect:
		op.err = inspectFD(fd, &op.h)
	}
}

// onConn runs op on conn's socket, found as Apply's doc says.
//
// This and onRaw are the only calls of RawConn.Control, and they keep Apply,
// Get and Disable free of allocations by one rule: the func handed to
// Control is op.run, a method value of the caller's op, and op itself never
// escapes. For a *net.TCPConn the compiler sees the concrete RawConn, so op
// stays on the caller's stack ("does not escape" under -gcflags=-m); any
// other RawConn is an interface that may keep the func, so onRaw runs a copy
// of op, which is what goes to the heap, on that path only. Fields of
// sockOp hold values, never pointers to the caller's variables, so that the
// copy cannot make them escape either.
func (op *sockOp) onConn(conn net.Conn) error {
	tc, other, err := socketOf(conn)
	if err != nil {
		return err
	}
	if tc == nil {
		op.check = true
		return op.onRaw(other)
	}
	if native.noKeepalive {
		return op.nothing()
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	if err := rc.Control(op.run); err != nil {
		return err
	}
	if op.err != nil {
		// Name the connection, as package net does; only on failure,
		// so that success costs nothing.
		return &net.OpError{Op: opNames[op.kind], Net: "tcp", Source: tc.LocalAddr(), Addr: tc.RemoteAddr(), Err: op.err}
	}
	return nil
}

// onRaw runs op on rc's socket; see onConn for why it runs a copy.
func (op *sockOp) onRaw(rc syscall.RawConn) error {
	if isNil(rc) {
		return fmt.Errorf("%w: nil syscall.RawConn", ErrNotTCP)
	}
	if native.noKeepalive {
		return op.nothing()
	}
	heap := *op
	if err := rc.Control(heap.run); err != nil {
		return err
	}
	if !heap.ran {
		// A RawConn that reports success without calling its func
		// reached no socket: nothing was applied, or read.
		return fmt.Errorf("%w: %T.Control did not run its func", ErrNotTCP, rc)
	}
	*op = heap
	return op.err
}

// nothing is op's error where the OS has no per-socket keepalive at all.
func (op *sockOp) nothing() error {
	missing := fieldsOf(&op.v.missing)
	if op.kind == opGet {
		op.s.Unknown = FieldIdle | FieldInterval | FieldCount | FieldUserTimeout
		missing = op.s.Unknown
	}
	return nothingDone(native, missing, op.kind == opGet || op.kind == opInspect)
}

// maxUnwrap bounds how many NetConn layers are peeled off, so a wrapper
// that returns itself cannot loop forever.
const maxUnwrap = 32

// socketOf finds the socket behind conn: through NetConn() layers (such as
// *tls.Conn) down to a *net.TCPConn, returned as tc, or else to another
// syscall.Conn, whose RawConn is returned as other: the caller still has to
// check that its socket is TCP.
func socketOf(conn net.Conn) (tc *net.TCPConn, other syscall.RawConn, err error) {
	for range maxUnwrap {
		if isNil(conn) {
			return nil, nil, fmt.Errorf("%w: nil connection", ErrNotTCP)
		}
		switch c := conn.(type) {
		case *net.TCPConn:
			return c, nil, nil
		case interface{ NetConn() net.Conn }:
			conn = c.NetConn()
		case syscall.Conn:
			rc, err := c.SyscallConn()
			if err == nil && isNil(rc) {
				err = fmt.Errorf("%w: %T has no socket", ErrNotTCP, conn)
			}
			return nil, rc, err
		default:
			return nil, nil, fmt.Errorf("%w: %T has no socket", ErrNotTCP, conn)
		}
	}
	return nil, nil, fmt.Errorf("%w: more than %d NetConn layers", ErrNotTCP, maxUnwrap)
}

// isNil reports whether x (a connection, listener or RawConn) is nil or
// holds a nil pointer, on which a method call would panic.
func isNil(x any) bool {
	if x == nil {
		return true
	}
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}
