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
package keepalive

import (
	"errors"
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
	Config
}

// Errors that callers can test for with [errors.Is].
var (
	// ErrNotTCP is returned for a connection that is not a TCP socket:
	// UDP, Unix sockets, in-memory pipes, or a nil connection.
	ErrNotTCP = errors.New("keepalive: not a TCP connection")
	// ErrOutOfRange is wrapped by the *RangeError that validation returns
	// for a negative value or one beyond the OS's limit.
	ErrOutOfRange = errors.New("keepalive: value out of range")
	// ErrUnsupported is wrapped by errors for what this OS cannot do. It
	// also matches [errors.ErrUnsupported].
	ErrUnsupported error = unsupportedError{}
)

type unsupportedError struct{}

func (unsupportedError) Error() string { return "keepalive: not supported" }

// Is makes ErrUnsupported match errors.ErrUnsupported too.
func (unsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// RangeError reports a Config field that is negative or beyond what the OS
// accepts. It wraps ErrOutOfRange.
type RangeError struct {
	Field  string // the Config field: "Idle", "Interval", "Count" or "UserTimeout"
	Option string // the OS's socket option, such as "TCP_KEEPIDLE"
	OS     string // the GOOS whose limits were checked
	// Value is the requested value; Min and Max the accepted range after
	// rounding up to the option's unit. Durations are in nanoseconds,
	// Count is a plain number.
	Value, Min, Max int64
}

func (e *RangeError) Error() string {
	show := func(v int64) string {
		if e.Field == "Count" {
			return fmt.Sprint(v)
		}
		return time.Duration(v).String()
	}
	if e.Value < 0 {
		return fmt.Sprintf("keepalive: %s=%s is negative", e.Field, show(e.Value))
	}
	return fmt.Sprintf("keepalive: %s=%s out of range for %s on %s (%s..%s)",
		e.Field, show(e.Value), e.Option, e.OS, show(e.Min), show(e.Max))
}

// Unwrap returns ErrOutOfRange.
func (e *RangeError) Unwrap() error { return ErrOutOfRange }

// OptionError reports a socket option that the OS refused to set or read. It
// names the option and the value in the option's own unit and wraps the
// OS's error, so errors.Is(err, syscall.EINVAL) works.
type OptionError struct {
	Op     string // "set" or "get"
	Option string // the OS's name for the option, such as "TCP_KEEPCNT"
	Value  int    // the value passed to the OS (Op "set" only)
	Err    error  // the OS's error, usually a syscall.Errno
}

func (e *OptionError) Error() string {
	if e.Op == "set" {
		return fmt.Sprintf("keepalive: set %s=%d: %v", e.Option, e.Value, e.Err)
	}
	return fmt.Sprintf("keepalive: %s %s: %v", e.Op, e.Option, e.Err)
}

// Unwrap returns the OS's error.
func (e *OptionError) Unwrap() error { return e.Err }

// Is reports an option the socket does not have (ENOPROTOOPT, EOPNOTSUPP)
// as ErrUnsupported.
func (e *OptionError) Is(target error) bool {
	return target == ErrUnsupported && optionMissing(e.Err)
}

// getFailed decides what Get makes of a failed read of option name: an
// option this socket lacks joins *unreadable, so that the other knobs are
// still reported, and any other error ends Get.
func getFailed(name string, err error, unreadable *error) error {
	e := &OptionError{Op: "get", Option: name, Err: err}
	if !e.Is(ErrUnsupported) {
		return e
	}
	*unreadable = errors.Join(*unreadable, e)
	return nil
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
// TCP. Other connections get an error wrapping ErrNotTCP, a closed one an
// error matching net.ErrClosed. c is validated before the socket is touched,
// and keepalive is switched on only after every timing has been set, so a
// refused value never leaves probes running on a half-set configuration.
func (c Config) Apply(conn net.Conn) error {
	v, err := c.values(native)
	if err != nil {
		return err
	}
	return applyValues(conn, &v)
}

// applyValues is Apply for a Config already validated and converted. The
// common case is spelled out so that the compiler sees the concrete RawConn
// and the closure stays on the stack: no allocation.
func applyValues(conn net.Conn, v *values) error {
	if tc, ok := conn.(*net.TCPConn); ok && tc != nil {
		rc, err := tc.SyscallConn()
		if err != nil {
			return err
		}
		var opErr error
		if err := rc.Control(func(fd uintptr) { opErr = setAll(fd, v) }); err != nil {
			return err
		}
		return opErr
	}
	rc, err := rawConnOf(conn)
	if err != nil {
		return err
	}
	return applyRaw(rc, *v, true)
}

// ApplyRawConn is Apply for a raw connection, such as one from
// [syscall.Conn.SyscallConn]. The socket is checked to be TCP first.
func (c Config) ApplyRawConn(rc syscall.RawConn) error {
	v, err := c.values(native)
	if err != nil {
		return err
	}
	if rc == nil {
		return fmt.Errorf("%w: nil syscall.RawConn", ErrNotTCP)
	}
	return applyRaw(rc, v, true)
}

// Control applies c to a socket before it connects or listens. Its signature
// fits [net.Dialer.Control] and [net.ListenConfig.Control]:
//
//	d := net.Dialer{Control: cfg.Control, KeepAlive: -1}
//
// Set KeepAlive to -1 there, or Go applies its own 15 s keepalive after
// connecting and overwrites c; [Config.Dialer] and [Config.ListenConfig] do
// that for you. A network other than tcp, tcp4 or tcp6 gets ErrNotTCP.
func (c Config) Control(network, address string, rc syscall.RawConn) error {
	v, err := c.values(native)
	if err != nil {
		return err
	}
	if err := checkNetwork(network); err != nil {
		return err
	}
	return applyRaw(rc, v, false)
}

// checkNetwork accepts the TCP networks of package net.
func checkNetwork(network string) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return nil
	}
	return fmt.Errorf("%w: network %q", ErrNotTCP, network)
}

// Get returns what the kernel holds for conn now, OS defaults included: on a
// fresh Linux socket, Enabled false and 2h0m0s / 1m15s / 9 probes (from
// /proc/sys/net/ipv4/tcp_keepalive_*), UserTimeout 0.
func Get(conn net.Conn) (State, error) {
	if tc, ok := conn.(*net.TCPConn); ok && tc != nil {
		var s State
		rc, err := tc.SyscallConn()
		if err != nil {
			return s, err
		}
		var opErr error
		if err := rc.Control(func(fd uintptr) { opErr = getAll(fd, &s) }); err != nil {
			return s, err
		}
		return s, opErr
	}
	rc, err := rawConnOf(conn)
	if err != nil {
		return State{}, err
	}
	return getRaw(rc)
}

// getRaw is Get for a socket not yet known to be TCP.
func getRaw(rc syscall.RawConn) (State, error) {
	if rc == nil {
		return State{}, fmt.Errorf("%w: nil syscall.RawConn", ErrNotTCP)
	}
	var s State
	var opErr error
	err := rc.Control(func(fd uintptr) {
		if opErr = checkTCP(fd); opErr == nil {
			opErr = getAll(fd, &s)
		}
	})
	if err != nil {
		return s, err
	}
	return s, opErr
}

// Disable turns keepalive probes off for conn. The timings stay as they are,
// so a later Apply with a zero Config turns them back on unchanged.
func Disable(conn net.Conn) error {
	if tc, ok := conn.(*net.TCPConn); ok && tc != nil {
		rc, err := tc.SyscallConn()
		if err != nil {
			return err
		}
		var opErr error
		if err := rc.Control(func(fd uintptr) { opErr = setEnabled(fd, false) }); err != nil {
			return err
		}
		return opErr
	}
	rc, err := rawConnOf(conn)
	if err != nil {
		return err
	}
	var opErr error
	err = rc.Control(func(fd uintptr) {
		if opErr = checkTCP(fd); opErr == nil {
			opErr = setEnabled(fd, false)
		}
	})
	if err != nil {
		return err
	}
	return opErr
}

// applyRaw sets v on rc's socket, first checking that the socket is TCP when
// check is set (when nothing else has said so).
func applyRaw(rc syscall.RawConn, v values, check bool) error {
	if rc == nil {
		return fmt.Errorf("%w: nil syscall.RawConn", ErrNotTCP)
	}
	var opErr error
	err := rc.Control(func(fd uintptr) {
		if check {
			if opErr = checkTCP(fd); opErr != nil {
				return
			}
		}
		opErr = setAll(fd, &v)
	})
	if err != nil {
		return err
	}
	return opErr
}

// maxUnwrap bounds how many NetConn layers are peeled off, so a wrapper
// that returns itself cannot loop forever.
const maxUnwrap = 32

// rawConnOf finds the socket behind conn: through NetConn() layers (such as
// *tls.Conn) down to a syscall.Conn. The caller still has to check that the
// socket is TCP, except for a *net.TCPConn.
func rawConnOf(conn net.Conn) (syscall.RawConn, error) {
	for range maxUnwrap {
		if isNil(conn) {
			return nil, fmt.Errorf("%w: nil connection", ErrNotTCP)
		}
		switch c := conn.(type) {
		case interface{ NetConn() net.Conn }:
			conn = c.NetConn()
		case syscall.Conn:
			rc, err := c.SyscallConn()
			if err == nil && rc == nil {
				err = fmt.Errorf("%w: %T has no socket", ErrNotTCP, conn)
			}
			return rc, err
		default:
			return nil, fmt.Errorf("%w: %T has no socket", ErrNotTCP, conn)
		}
	}
	return nil, fmt.Errorf("%w: more than %d NetConn layers", ErrNotTCP, maxUnwrap)
}

// isNil reports whether conn is nil or holds a nil pointer, on which a
// method call would panic.
func isNil(conn net.Conn) bool {
	if conn == nil {
		return true
	}
	v := reflect.ValueOf(conn)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}
