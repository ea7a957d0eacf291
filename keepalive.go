// Package keepalive makes TCP dead-peer detection behave the same way on
// every operating system.
//
// A TCP connection carries no traffic of its own while it is idle. When the
// peer vanishes without a FIN or RST (power lost, cable pulled, NAT entry
// expired, phone out of coverage) the local end stays ESTABLISHED forever: a
// blocked Read never returns and the server slowly fills with dead
// connections. Kernel keepalive fixes that: after Idle without data the
// kernel sends a probe, repeats it every Interval, and after Count unanswered
// probes drops the connection, so the blocked Read fails with ETIMEDOUT.
//
// The OS defaults (2 hours idle on Linux, macOS and Windows) are far too slow
// for applications, the knobs have different names and units on every OS, and
// Go's own [net.TCPConn.SetKeepAliveConfig] can fail half-way. This package
// validates a [Config] against the running OS's limits before it touches the
// socket, applies it with one call, and reads back with [Get] what the kernel
// really holds.
//
// Apply it after Accept or Dial:
//
//	cfg := keepalive.Config{Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3}
//	if err := cfg.Apply(conn); err != nil { ... }
//
// or let a [net.Dialer] or listener do it for every connection (see
// [Config.Dialer], [Config.Listen] and [Config.Listener]).
//
// # Errors
//
// One contract holds for every call that touches a socket:
//
//   - nil: the socket holds everything asked, and keepalive is on.
//   - *RangeError (matches ErrOutOfRange): the Config is invalid for this OS.
//     Found before any system call: nothing changed.
//   - ErrNotTCP: not a TCP connection. Nothing changed.
//   - *UnsupportedError (matches ErrUnsupported and errors.ErrUnsupported):
//     a shortfall, tolerated. Keepalive is on and every field in its Set
//     holds; those in Missing do not, because this OS has no per-socket
//     option for them or this socket lacks one. Where the OS cannot do
//     anything per socket (js, wasip1, plan9) its Enabled is false: nothing
//     was applied.
//   - *OptionError: the OS refused a value or failed. Timings set before
//     the refused one stay, and keepalive is not switched on by this call,
//     except where the OS switches it on with the timings (Windows'
//     SIO_KEEPALIVE_VALS, which sets Idle and Interval, before any other
//     option). Validation makes a refusal rare: it is the OS's
//     own limit where it is lower than documented (Wine's host), or a
//     failing socket.
//
// An error about a *net.TCPConn (also one found behind a *tls.Conn or other
// NetConn() wrapper) comes inside a *net.OpError that names the connection's
// addresses; errors.Is and errors.As see through it. A closed connection
// gives an error matching net.ErrClosed.
//
// [Get] returns nil when it read everything this OS can report; the fields
// it cannot report on this OS or socket are zero and named in
// State.Unknown. [Config.Dialer], [Config.ListenConfig], [Config.Listen] and
// [Config.Listener] validate when they are built and report the same
// errors then: an *UnsupportedError comes with a working helper that sets
// the rest, any other error with none.
package keepalive

import (
	"fmt"
	"net"
	"reflect"
	"syscall"
	"time"
)

// Config is a keepalive configuration for one TCP connection.
//
// A zero field leaves the socket's current value alone: the OS default, or
// whatever was set before. A negative field is an error. Durations are
// rounded up to the unit the OS works in (whole seconds for Idle and Interval
// on Linux, milliseconds for UserTimeout), exactly as Go's own
// [net.TCPConn.SetKeepAliveConfig] rounds them.
type Config struct {
	// Idle is how long the connection must be idle before the first probe.
	Idle time.Duration
	// Interval is the time between unanswered probes.
	Interval time.Duration
	// Count is how many unanswered probes drop the connection.
	Count int
	// UserTimeout is how long sent data may stay unacknowledged before the
	// connection is dropped (TCP_USER_TIMEOUT on Linux). Keepalive probes
	// are not sent while data is in flight, so without it a peer that
	// vanishes mid-write is detected only by the retransmission timeout,
	// about 15 minutes on Linux.
	UserTimeout time.Duration
}

// State is what the kernel holds for a connection now, OS defaults
// included.
type State struct {
	// Enabled reports whether keepalive probes are on (SO_KEEPALIVE).
	Enabled bool
	// Config holds the timings the socket has, whether keepalive is on or
	// not; a field named in Unknown is zero.
	Config Config
	// Unknown names the fields this OS, or this socket, cannot report: one
	// it has no per-socket option for, one it can set but not read back
	// (Windows' SIO_KEEPALIVE_VALS), or one this kind of socket lacks
	// (TCP_USER_TIMEOUT on a Linux MPTCP connection).
	Unknown Fields
}

// Validate reports whether c is acceptable to this OS, without a system
// call. Apply, ApplyRawConn and Control validate first too, so an invalid
// Config never changes a socket.
func (c Config) Validate() error {
	_, err := c.values(native)
	return err
}

// Apply turns keepalive on for conn and sets every non-zero field of c.
//
// conn may be a *net.TCPConn, anything with a NetConn() net.Conn method (such
// as *tls.Conn), unwrapped repeatedly, or any syscall.Conn whose socket is
// TCP. Other connections, including a syscall.Conn whose descriptor is not a
// socket or a raw IP socket, get an error wrapping ErrNotTCP, a closed one an
// error matching net.ErrClosed. c is validated before the socket is touched,
// and keepalive is switched on only after every timing has been set (where
// the OS allows: see the package doc), so a refused value does not leave
// probes running on a half-set configuration. The errors are the package's
// contract (see the package doc).
//
// Each field is its own system call: two Applies racing on one socket are
// not atomic with each other and may leave a mix of both Configs. Apply
// (and Get, Disable) on a *net.TCPConn, or on wrappers of one, allocates
// nothing.
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
// they reported when built.
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
// fresh Linux socket, Enabled false and 2h0m0s / 1m15s / 9 probes (from
// /proc/sys/net/ipv4/tcp_keepalive_*), UserTimeout 0. It takes the
// connections Apply takes.
func Get(conn net.Conn) (State, error) {
	op := sockOp{kind: opGet}
	err := op.onConn(conn)
	return op.s, err
}

// getRaw is Get for a socket not yet known to be TCP.
func getRaw(rc syscall.RawConn) (State, error) {
	op := sockOp{kind: opGet, check: true}
	err := op.onRaw(rc)
	return op.s, err
}

// Disable turns keepalive probes off for conn. The timings stay as they are,
// so a later Apply with a zero Config turns them back on unchanged.
func Disable(conn net.Conn) error {
	op := sockOp{kind: opDisable}
	return op.onConn(conn)
}

// A sockOp is one of Apply, Get and Disable on one socket: what runs inside
// RawConn.Control, with its input and its result.
type sockOp struct {
	kind  opKind
	check bool   // make sure the socket is TCP first
	v     values // opApply: what to set
	s     State  // opGet: what was read
	h     Health // opInspect: what was read
	err   error  // the outcome of run
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
	if rc == nil {
		return fmt.Errorf("%w: nil syscall.RawConn", ErrNotTCP)
	}
	if native.noKeepalive {
		return op.nothing()
	}
	heap := *op
	if err := rc.Control(heap.run); err != nil {
		return err
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
	return nothingDone(native, op.kind, missing)
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
			if err == nil && rc == nil {
				err = fmt.Errorf("%w: %T has no socket", ErrNotTCP, conn)
			}
			return nil, rc, err
		default:
			return nil, nil, fmt.Errorf("%w: %T has no socket", ErrNotTCP, conn)
		}
	}
	return nil, nil, fmt.Errorf("%w: more than %d NetConn layers", ErrNotTCP, maxUnwrap)
}

// isNil reports whether x (a connection or a listener) is nil or holds a
// nil pointer, on which a method call would panic.
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
