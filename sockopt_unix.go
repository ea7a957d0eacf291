//go:build unix

package keepalive

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// soKeepAlive is SO_KEEPALIVE, as the generic path sets it.
var soKeepAlive = sockopt{name: "SO_KEEPALIVE", level: unix.SOL_SOCKET, opt: unix.SO_KEEPALIVE}

// sysSockcalls is the system-call layer of Unix: setsockopt and getsockopt
// of an int, through setInt and getInt.
type sysSockcalls struct{}

func (sysSockcalls) set(fd uintptr, o *sockopt, value int) error {
	return setInt(fd, o.level, o.opt, value)
}

func (sysSockcalls) get(fd uintptr, o *sockopt) (int, error) {
	return getInt(fd, o.level, o.opt)
}

// setTogether is not reached: no Unix table sets knobs together.
func (sysSockcalls) setTogether(uintptr, *platform, values) error {
	return errors.ErrUnsupported
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

// connGone reports an OS error that says the connection was reset or
// aborted, which Go's own Accept counts as temporary.
func connGone(err error) bool {
	return errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.ECONNABORTED)
}
