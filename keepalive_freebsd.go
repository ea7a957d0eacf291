package keepalive

import "golang.org/x/sys/unix"

var native = &freebsd

// The freebsd table must hold the kernel's numbers: each line fails to
// compile if one differs from golang.org/x/sys. TCP_MAXUNACKTIME (0x44,
// from FreeBSD 14's <netinet/tcp.h>) is in x/sys for riscv64 only, so it
// is checked there (keepalive_freebsd_riscv64.go) and nowhere else.
var (
	_ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]
	_ = [1]struct{}{}[freebsdTCPKeepIdle-unix.TCP_KEEPIDLE]
	_ = [1]struct{}{}[freebsdTCPKeepIntvl-unix.TCP_KEEPINTVL]
	_ = [1]struct{}{}[freebsdTCPKeepCnt-unix.TCP_KEEPCNT]
)

// checkTCP tells a TCP socket from any other by SO_PROTOCOL, which also
// tells it from an SCTP stream socket.
func checkTCP(fd uintptr) error {
	return checkProtocol(fd, unix.SO_PROTOCOL, "SO_PROTOCOL", unix.IPPROTO_TCP)
}
