package keepalive

import "golang.org/x/sys/unix"

var native = &netbsd

// The netbsd table must hold the kernel's numbers: each line fails to compile
// if one differs from golang.org/x/sys.
var (
	_ = [1]struct{}{}[ipprotoTCP-unix.IPPROTO_TCP]
	_ = [1]struct{}{}[netbsdTCPKeepIdle-unix.TCP_KEEPIDLE]
	_ = [1]struct{}{}[netbsdTCPKeepIntvl-unix.TCP_KEEPINTVL]
	_ = [1]struct{}{}[netbsdTCPKeepCnt-unix.TCP_KEEPCNT]
)

// checkTCP tells a TCP socket from any other. NetBSD has no SO_PROTOCOL; an
// Internet stream socket is taken to be TCP. An SCTP one passes too; what
// its kernel answers to the TCP options then decides the error (refused:
// an *OptionError; unknown, ENOPROTOOPT: a shortfall, keepalive on).
func checkTCP(fd uintptr) error { return checkStream(fd) }
