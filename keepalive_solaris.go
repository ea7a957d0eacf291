//go:build !illumos

package keepalive

import "golang.org/x/sys/unix"

var native = &solaris

// The solaris table must hold the kernel's numbers: each line fails to
// compile if one differs from golang.org/x/sys. Its TCP_KEEPIDLE,
// TCP_KEEPINTVL and TCP_KEEPCNT are illumos's (0x22, 0x24, 0x23), so the
// Solaris 11.4 numbers (0x1d, 0x1e, 0x1f, from Solaris 11.4's
// <netinet/tcp.h>, as in Go's net/tcpsockopt_solaris.go) cannot be checked.
var (
	_ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]
	_ = [1]struct{}{}[solarisTCPAbortThreshold-unix.TCP_ABORT_THRESHOLD]
)

// checkTCP tells a TCP socket from any other by its type and address
// family; an SCTP stream socket would pass, and then fail on the first TCP
// option.
func checkTCP(fd uintptr) error { return checkStream(fd) }
