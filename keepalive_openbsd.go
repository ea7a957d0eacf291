package keepalive

import "golang.org/x/sys/unix"

// OpenBSD can only switch SO_KEEPALIVE per socket: Apply turns it on and
// reports every non-zero field as unsupported.
var native = &openbsd

// The openbsd table has no socket options; IPPROTO_TCP is checked against
// golang.org/x/sys all the same.
var _ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]

// checkTCP tells a TCP socket from any other: OpenBSD's only Internet stream
// sockets are TCP.
func checkTCP(fd uintptr) error { return checkStream(fd) }
