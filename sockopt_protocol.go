//go:build linux || freebsd || illumos

package keepalive

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// checkProtocol tells a TCP socket from any other where the OS names a
// socket's protocol (option soProtocol, called name: SO_PROTOCOL, or
// illumos's SO_PROTOTYPE): a stream socket whose protocol is one of
// protos. The type matters too: a raw IP socket opened for protocol TCP
// (ip4:tcp) has SO_PROTOCOL IPPROTO_TCP.
func checkProtocol(fd uintptr, soProtocol int, name string, protos ...int) error {
	if err := checkType(fd); err != nil {
		return err
	}
	proto, err := getInt(fd, unix.SOL_SOCKET, soProtocol)
	if err != nil {
		return &OptionError{Op: "get", Option: name, Err: err}
	}
	for _, p := range protos {
		if proto == p {
			return nil
		}
	}
	return fmt.Errorf("%w: socket protocol %d", ErrNotTCP, proto)
}
