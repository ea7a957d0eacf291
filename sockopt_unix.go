//go:build unix

package keepalive

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// setAll sets every knob of v on the socket, then turns keepalive on: a
// value the OS refuses half-way leaves keepalive as it was. An option this
// particular socket lacks (TCP_USER_TIMEOUT on an MPTCP connection) is
// skipped instead, and named in the error, which matches ErrUnsupported.
func setAll(fd uintptr, v *values) error {
	var lacking []error
	for k := range numKnobs {
		if !v.set[k] {
			continue
		}
		o := &native.knobs[k]
		if err := setInt(fd, o.level, o.opt, v.v[k]); err != nil {
			e := &OptionError{Op: "set", Option: o.name, Value: v.v[k], Err: err}
			if !e.Is(ErrUnsupported) {
				return e
			}
			lacking = append(lacking, e)
		}
	}
	if err := setEnabled(fd, true); err != nil {
		return err
	}
	if lacking == nil {
		return v.unsupported(native)
	}
	return errors.Join(append(lacking, v.unsupported(native))...)
}

// setEnabled switches SO_KEEPALIVE.
func setEnabled(fd uintptr, on bool) error {
	n := 0
	if on {
		n = 1
	}
	if err := setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, n); err != nil {
		return &OptionError{Op: "set", Option: "SO_KEEPALIVE", Value: n, Err: err}
	}
	return nil
}

// errProductUnreadable is what Get says where Interval and Count are set
// as one product (Solaris before 11.4).
var errProductUnreadable = fmt.Errorf("%w: Interval and Count cannot be read back (the kernel holds only their product, TCP_KEEPALIVE_ABORT_THRESHOLD)", ErrUnsupported)

// getAll reads SO_KEEPALIVE and every knob this OS has into s. A knob this
// socket cannot report (TCP_USER_TIMEOUT on an MPTCP socket) is left zero and
// named in the error, which then matches ErrUnsupported; the rest is read.
func getAll(fd uintptr, s *State) error {
	var unreadable error
	on, err := getInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
	if err != nil {
		return &OptionError{Op: "get", Option: "SO_KEEPALIVE", Err: err}
	}
	s.Enabled = on != 0
	for k := range numKnobs {
		o := &native.knobs[k]
		if o.name == "" {
			continue
		}
		if native.intervalTimesCount && (k == interval || k == count) {
			// One option holds their product: neither can be read.
			unreadable = errors.Join(unreadable, errProductUnreadable)
			continue
		}
		n, err := getInt(fd, o.level, o.opt)
		if err != nil {
			if err := getFailed(o.name, err, &unreadable); err != nil {
				return err
			}
			continue
		}
		s.setField(k, fromUnit(n, o.unit))
	}
	return unreadable
}

// optionMissing reports an OS error that means the socket has no such
// option, as opposed to refusing its value.
func optionMissing(err error) bool {
	return errors.Is(err, unix.ENOPROTOOPT) || errors.Is(err, errors.ErrUnsupported)
}

// isTimedOut reports the error of a connection the kernel dropped because
// the peer stopped answering.
//
// EHOSTUNREACH and ENETUNREACH count too: when a router answered the
// retransmissions with ICMP unreachable, the kernel reports that error
// instead of ETIMEDOUT as it gives up.
func isTimedOut(err error) bool {
	return errors.Is(err, unix.ETIMEDOUT) || errors.Is(err, unix.EHOSTUNREACH) || errors.Is(err, unix.ENETUNREACH)
}

// checkProtocol tells a TCP socket from any other where the OS names a
// socket's protocol (SO_PROTOCOL): a stream socket whose protocol is one of
// protos. The type matters too: a raw IP socket opened for protocol TCP
// (ip4:tcp) has SO_PROTOCOL IPPROTO_TCP.
func checkProtocol(fd uintptr, soProtocol int, protos ...int) error {
	if err := checkType(fd); err != nil {
		return err
	}
	proto, err := getInt(fd, unix.SOL_SOCKET, soProtocol)
	if err != nil {
		return &OptionError{Op: "get", Option: "SO_PROTOCOL", Err: err}
	}
	for _, p := range protos {
		if proto == p {
			return nil
		}
	}
	return fmt.Errorf("%w: socket protocol %d", ErrNotTCP, proto)
}

// checkStream tells a TCP socket from any other where the OS cannot name a
// socket's protocol: a stream socket of the Internet families is TCP.
func checkStream(fd uintptr) error {
	if err := checkType(fd); err != nil {
		return err
	}
	sa, err := unix.Getsockname(int(fd))
	switch {
	case errors.Is(err, unix.EAFNOSUPPORT):
		return fmt.Errorf("%w: not an Internet socket", ErrNotTCP)
	case err != nil:
		return os.NewSyscallError("getsockname", err)
	}
	switch sa.(type) {
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
		return nil
	}
	return fmt.Errorf("%w: %T socket", ErrNotTCP, sa)
}

// checkType makes sure fd is a stream socket. A descriptor that is no
// socket at all (a pipe, a file) is not TCP either.
func checkType(fd uintptr) error {
	typ, err := getInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	switch {
	case errors.Is(err, unix.ENOTSOCK):
		return fmt.Errorf("%w: not a socket", ErrNotTCP)
	case err != nil:
		return &OptionError{Op: "get", Option: "SO_TYPE", Err: err}
	case typ != unix.SOCK_STREAM:
		return fmt.Errorf("%w: socket type %d", ErrNotTCP, typ)
	}
	return nil
}
