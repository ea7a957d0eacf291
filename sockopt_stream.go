//go:build unix && !freebsd && !illumos

package keepalive

// Linux, FreeBSD and illumos name a socket's protocol
// (sockopt_protocol.go); Linux builds this all the same, for its test
// against real sockets.

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

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
