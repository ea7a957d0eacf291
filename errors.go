package keepalive

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors that callers can test for with [errors.Is].
var (
	// ErrNotTCP is returned for a connection that is not a TCP socket:
	// UDP, Unix or raw IP sockets, in-memory pipes, descriptors that are no
	// socket, a nil connection, listener or RawConn, or a RawConn whose
	// Control reaches no socket; and by Control and Listen for a network
	// other than tcp, tcp4 and tcp6.
	ErrNotTCP = errors.New("keepalive: not a TCP connection")
	// ErrOutOfRange is wrapped by the *RangeError that validation returns
	// for a negative value or one beyond the OS's limit, and that Within
	// returns for a d too short.
	ErrOutOfRange = errors.New("keepalive: value out of range")
	// ErrUnsupported is matched by errors for what this OS or socket cannot
	// do, above all by *UnsupportedError. It wraps [errors.ErrUnsupported],
	// so that matches too.
	ErrUnsupported error = &sentinel{"keepalive: not supported", errors.ErrUnsupported}
)

// sentinel is an error value that wraps a more general one.
type sentinel struct {
	msg  string
	wrap error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.wrap }

// fieldOf is the Fields bit of knob k.
func fieldOf(k knob) Fields { return 1 << k }

// fieldsOf is the set of knobs marked in b.
func fieldsOf(b *[numKnobs]bool) Fields {
	var f Fields
	for k, on := range b {
		if on {
			f |= fieldOf(knob(k))
		}
	}
	return f
}

// UnsupportedError reports a Config that was applied in part: keepalive is
// on and the socket holds every field in Set, but not those in Missing,
// because this OS has no per-socket option for them, or this socket lacks
// one (TCP_USER_TIMEOUT on a Linux MPTCP connection), or, from
// [Config.ListenConfig], because accepted sockets do not inherit them.
// It matches ErrUnsupported and [errors.ErrUnsupported], and Err if set.
//
// Where the OS can do nothing at all per socket (js, wasip1, plan9),
// Enabled is false: nothing was applied, or read.
type UnsupportedError struct {
	OS      string // the GOOS
	Set     Fields // the non-zero fields that hold
	Missing Fields // the non-zero fields that do not
	Enabled bool   // whether keepalive was switched on
	// Err is the OS's error where the socket itself refused an option as
	// one it does not have, an *OptionError; nil otherwise.
	Err error
	why string // what kept Missing from holding, for Error
}

// Reasons for UnsupportedError.why: formats of the OS, the missing fields
// and the fields set. The listen helpers have reasons of their own.
const (
	whyNoOption    = "%s has no per-socket option for %s (set: %s)"
	whyNotHere     = "%s cannot set %s on this socket (set: %s)"
	whyNothing     = "%s has no per-socket TCP keepalive: nothing applied%.0s%.0s"
	whyNothingRead = "%s has no per-socket TCP keepalive: nothing read%.0s%.0s"
)

// Error says which fields do not hold and why, and which do.
func (e *UnsupportedError) Error() string {
	why := e.why
	if why == "" {
		why = whyNoOption // a value made outside this package
	}
	msg := "keepalive: " + fmt.Sprintf(why, e.OS, e.Missing, e.Set)
	if e.Err != nil {
		// Err is an *OptionError, whose text starts with the same
		// prefix: say it once.
		msg += ": " + strings.TrimPrefix(e.Err.Error(), "keepalive: ")
	}
	return msg
}

// Unwrap returns ErrUnsupported, and Err if set.
func (e *UnsupportedError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrUnsupported}
	}
	return []error{ErrUnsupported, e.Err}
}

// nothingDone is the error of an operation on an OS that has no
// per-socket keepalive at all: nothing applied, or nothing read.
func nothingDone(p *platform, missing Fields, read bool) error {
	why := whyNothing
	if read {
		why = whyNothingRead
	}
	return &UnsupportedError{OS: p.goos, Missing: missing, why: why}
}

// RangeError reports a Config field that is negative or beyond what the OS
// accepts. It wraps ErrOutOfRange.
type RangeError struct {
	// Field is the Config field: "Idle", "Interval", "Count" or
	// "UserTimeout"; or, for a limit on fields combined, "Interval*Count"
	// or "Idle+Interval*Count" (a duration, as Value, Min and Max then are).
	Field  string
	Option string // the OS's socket option, such as "TCP_KEEPIDLE"
	OS     string // the GOOS whose limits were checked
	// Value is the requested value; Min and Max the accepted range after
	// rounding up to the option's unit. They are in the Config field's own
	// terms, not the option's: a time.Duration's nanoseconds for a
	// duration, a plain number for Count.
	Value, Min, Max int64
	// host names the system whose limits Min and Max are, where not the
	// OS's own ("Wine on Linux").
	host string
}

// Error names the field and its value, and the option, OS and accepted
// range, or says that the value is negative. Where the limits are not the
// OS's own but those of a system under it, it names that too: "on windows
// under Wine on Linux (1..127)".
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
	os := e.OS
	if e.host != "" {
		os += " under " + e.host
	}
	return fmt.Sprintf("keepalive: %s=%s out of range for %s on %s (%s..%s)",
		e.Field, show(e.Value), e.Option, os, show(e.Min), show(e.Max))
}

// Unwrap returns ErrOutOfRange.
func (e *RangeError) Unwrap() error { return ErrOutOfRange }

// OptionError reports a socket option that the OS refused to set or read. It
// names the option and the value in the option's own unit (seconds for
// TCP_KEEPIDLE, milliseconds for TCP_USER_TIMEOUT: what the OS was given),
// and wraps the OS's error, so errors.Is(err, syscall.EINVAL) works.
type OptionError struct {
	Op     string // "set" or "get"
	Option string // the OS's name for the option, such as "TCP_KEEPCNT"
	Value  int    // the value passed to the OS (Op "set" only)
	Err    error  // the OS's error, usually a syscall.Errno
}

// Error names the option, the value given (Op "set") and the OS's error.
func (e *OptionError) Error() string {
	if e.Op == "set" {
		return fmt.Sprintf("keepalive: set %s=%d: %v", e.Option, e.Value, e.Err)
	}
	return fmt.Sprintf("keepalive: %s %s: %v", e.Op, e.Option, e.Err)
}

// Unwrap returns the OS's error.
func (e *OptionError) Unwrap() error { return e.Err }

// Temporary reports whether the connection went away before the option
// could be set or read (ECONNRESET, ECONNABORTED: what Go's own Accept
// counts as temporary; on Windows also WSAENOTCONN and WSAENETRESET,
// setsockopt's errors for a connection reset or timed out), or whether the
// OS's error is temporary itself. It
// makes a *net.OpError around e temporary too, so that a server such as
// net/http goes on accepting after a client that reset at once.
func (e *OptionError) Temporary() bool {
	if connGone(e.Err) {
		return true
	}
	t, ok := e.Err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}
